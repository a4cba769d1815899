/* Phones: every data table becomes a stack of cards (site.css, max-width 640px). Each cell
   gets the text of its column header as data-label, which the stacked layout shows before
   the value, so a card still says what each number is. No effect on wide screens. */
(function () {
  "use strict";
  var tables = document.querySelectorAll("main table");
  Array.prototype.forEach.call(tables, function (table) {
    var rows = table.rows;
    if (!rows.length) return;
    var head = table.tHead && table.tHead.rows.length ? table.tHead.rows[0] : rows[0];
    var headers = Array.prototype.map.call(head.cells, function (c) {
      return c.tagName === "TH" ? c.textContent.trim() : "";
    });
    if (!headers.some(Boolean) || head.cells.length < 2) return;
    table.classList.add("stackable");
    head.classList.add("stack-head");
    Array.prototype.forEach.call(rows, function (row) {
      if (row === head) return;
      Array.prototype.forEach.call(row.cells, function (cell, i) {
        if (!cell.hasAttribute("data-label") && headers[i]) cell.setAttribute("data-label", headers[i]);
      });
    });
  });
})();
