/* Sortable, filterable tables: progressive enhancement of the tables that the
   `table_wrap` macro marks (data-sortable). Without JavaScript the table is read
   as sent. Each column head becomes a button (Enter/Space sort; the state is
   in aria-sort); a table with more than a few rows gets a labelled filter box
   and a live count of the rows shown. Times (T+1d6h), durations (1d6h), numbers
   and percentages sort by value, everything else by text. */
(function () {
  "use strict";
  var FEW = 5;
  var UNITS = { d: 1440, h: 60, m: 1 };

  function minutes(text) {
    var m = /^T([+-])((?:\d+[dhm])+)/.exec(text);
    if (!m) { return null; }
    var total = 0;
    m[2].replace(/(\d+)([dhm])/g, function (_, n, u) { total += Number(n) * UNITS[u]; });
    return m[1] === "-" ? -total : total;
  }

  function key(cell) {
    if (!cell) { return { n: null, s: "" }; }
    var text = (cell.getAttribute("data-sort") || cell.textContent || "").trim();
    var t = minutes(text);
    if (t === null && /^\d+[dhm]/.test(text)) { t = minutes("T+" + text); }  // a duration
    if (t !== null) { return { n: t, s: text }; }
    var num = /^-?\d+(?:[.,]\d+)?(?:\s*%)?$/.test(text) ? parseFloat(text.replace(",", ".")) : NaN;
    return { n: isNaN(num) ? null : num, s: text.toLowerCase() };
  }

  function compare(a, b) {
    if (a.n !== null && b.n !== null) { return a.n - b.n; }
    if (a.n !== null) { return -1; }
    if (b.n !== null) { return 1; }
    return a.s < b.s ? -1 : a.s > b.s ? 1 : 0;
  }

  function cellAt(row, index) {
    var col = 0;
    for (var i = 0; i < row.cells.length; i++) {
      var span = row.cells[i].colSpan || 1;
      if (index < col + span) { return span > 1 ? null : row.cells[i]; }
      col += span;
    }
    return null;
  }

  function sortable(table, wrap) {
    var body = table.tBodies[0];
    var heads = table.tHead ? table.tHead.rows[0] : null;
    if (!body || !heads || body.rows.length < 2) { return; }
    var original = Array.prototype.slice.call(body.rows);
    var cells = Array.prototype.slice.call(heads.cells);
    cells.forEach(function (th, index) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "sort";
      while (th.firstChild) { button.appendChild(th.firstChild); }
      var mark = document.createElement("span");
      mark.className = "sort-mark";
      mark.setAttribute("aria-hidden", "true");
      button.appendChild(mark);
      th.appendChild(button);
      button.addEventListener("click", function () {
        var down = th.getAttribute("aria-sort") === "ascending";
        cells.forEach(function (other) { other.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", down ? "descending" : "ascending");
        var rows = original.slice().sort(function (a, b) {
          var c = compare(key(cellAt(a, index)), key(cellAt(b, index)));
          return down ? -c : c;
        });
        rows.forEach(function (row) { body.appendChild(row); });
        announce(wrap, "Sorted by " + button.textContent.trim() + ", " +
          (down ? "descending" : "ascending") + ".");
      });
    });
    if (original.length > FEW) { filterable(table, wrap, original); }
  }

  function announce(wrap, text) {
    var status = wrap.previousElementSibling;
    if (status && status.classList.contains("table-tools")) {
      status.querySelector("[role=status]").textContent = text;
    }
  }

  var made = 0;
  function tools(wrap) {
    var box = document.createElement("div");
    box.className = "table-tools";
    var status = document.createElement("p");
    status.setAttribute("role", "status");
    status.className = "table-status";
    box.appendChild(status);
    wrap.parentNode.insertBefore(box, wrap);
    return box;
  }

  function filterable(table, wrap, rows) {
    var box = wrap.previousElementSibling;
    var id = "table-filter-" + (++made);
    var label = document.createElement("label");
    label.htmlFor = id;
    var name = wrap.getAttribute("aria-label") || "the table";
    label.textContent = "Filter " + name.charAt(0).toLowerCase() + name.slice(1);
    var input = document.createElement("input");
    input.type = "search";
    input.id = id;
    input.autocomplete = "off";
    box.insertBefore(input, box.firstChild);
    box.insertBefore(label, input);
    input.addEventListener("input", function () {
      var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
      var shown = 0;
      rows.forEach(function (row) {
        var text = row.textContent.toLowerCase();
        var keep = words.every(function (w) { return text.indexOf(w) >= 0; });
        row.hidden = !keep;
        if (keep) { shown++; }
      });
      box.querySelector("[role=status]").textContent =
        words.length ? shown + " of " + rows.length + " rows shown." : "";
    });
  }

  function enhance(root) {
    var wraps = root.querySelectorAll ? root.querySelectorAll(".table-wrap[data-sortable]") : [];
    Array.prototype.forEach.call(wraps, function (wrap) {
      var table = wrap.querySelector("table");
      if (!table || table.getAttribute("data-enhanced")) { return; }
      table.setAttribute("data-enhanced", "true");
      tools(wrap);
      sortable(table, wrap);
    });
  }

  enhance(document);
  // Parts of a page that htmx swaps in (the risk panel, the observations) too.
  document.addEventListener("htmx:load", function (event) { enhance(event.target); });
})();
