/* Draw a conflict's areas with Leaflet: GeoJSON layers only, no background tiles
   (the pages work without internet and ask no outside server for anything).
   Each area takes the colour of its legend entry (the page's CSS is the one
   source of the colours); the overlap of colliding areas is drawn on top,
   hatched red in the legend and outlined red with a dashed edge here. */
(function () {
  "use strict";

  function colourOf(key) {
    var swatch = document.querySelector(".map-legend .swatch-" + key);
    var colour = swatch ? getComputedStyle(swatch).backgroundColor : "";
    return colour && colour !== "rgba(0, 0, 0, 0)" ? colour : "#52606d";
  }

  function draw(el) {
    var source = document.getElementById(el.getAttribute("data-geojson"));
    if (!source || typeof L === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    var map = L.map(el, { attributionControl: false, scrollWheelZoom: false, zoomSnap: 0.25 });
    var layer = L.geoJSON(data, {
      style: function (feature) {
        var key = feature.properties.colour || "unshared";
        if (key === "overlap") {
          return { color: "#b42318", weight: 3, dashArray: "6 4", fillColor: "#b42318",
                   fillOpacity: 0.45 };
        }
        var c = colourOf(key);
        return { color: c, weight: 2, fillColor: c, fillOpacity: 0.2 };
      },
      onEachFeature: function (feature, item) {
        var p = feature.properties;
        var who = p.partners && p.partners.length ? p.partners.join(", ") + ": " : "";
        item.bindTooltip(p.id === "overlap" ? p.name : who + p.name + " (" + p.id + ")");
      }
    }).addTo(map);
    layer.eachLayer(function (item) {
      if (item.feature.properties.id === "overlap") { item.bringToFront(); }
    });
    map.fitBounds(layer.getBounds(), { padding: [24, 24] });
    el.setAttribute("data-drawn", "true");
  }

  document.querySelectorAll("[data-geojson]").forEach(draw);
})();
