/* Draw a conflict's areas with Leaflet: GeoJSON layers only, no background tiles
   (the pages work without internet and ask no outside server for anything). */
(function () {
  "use strict";
  var colours = ["#b45309", "#1d4ed8", "#047857", "#9d174d", "#6d28d9", "#0f766e"];

  function draw(el) {
    var source = document.getElementById(el.getAttribute("data-geojson"));
    if (!source || typeof L === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    var map = L.map(el, { attributionControl: false, scrollWheelZoom: false, zoomSnap: 0.25 });
    var i = 0;
    var layer = L.geoJSON(data, {
      style: function () {
        var c = colours[i++ % colours.length];
        return { color: c, weight: 2, fillColor: c, fillOpacity: 0.25 };
      },
      onEachFeature: function (feature, item) {
        item.bindTooltip(feature.properties.name + " (" + feature.properties.id + ")");
      }
    }).addTo(map);
    map.fitBounds(layer.getBounds(), { padding: [24, 24] });
    el.setAttribute("data-drawn", "true");
  }

  document.querySelectorAll("[data-geojson]").forEach(draw);
})();
