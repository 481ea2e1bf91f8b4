// The claims board (repro/site/board.py): filter rows by kind, verdict or replication, and sort
// by any column. Runs on every page load, including Material's instant navigation.
(function () {
  // What a cell shows on the claim's line: a fold's summary, not the full text folded in it.
  function shown(cell) {
    var summary = cell.querySelector("summary");
    return (summary || cell).textContent.trim();
  }
  function setup() {
    document.querySelectorAll(".sn-board").forEach(function (board) {
      if (board.dataset.ready) return;
      board.dataset.ready = "1";
      var table = board.querySelector("table");
      var body = table.tBodies[0];
      board.querySelectorAll(".sn-filter").forEach(function (button) {
        button.addEventListener("click", function () {
          var field = button.dataset.field, value = button.dataset.value;
          board.querySelectorAll(".sn-filter").forEach(function (b) {
            b.classList.toggle("md-button--primary", b === button);
          });
          Array.prototype.forEach.call(body.rows, function (row) {
            row.hidden = field !== "" && row.dataset[field] !== value;
          });
        });
      });
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
        th.classList.add("sn-sortable");  // its visible ⇅ says so: no hover-only title
        th.addEventListener("click", function () {
          var up = th.dataset.sort !== "up";
          th.dataset.sort = up ? "up" : "down";
          var rows = Array.prototype.slice.call(body.rows);
          rows.sort(function (a, b) {
            var x = shown(a.cells[col]), y = shown(b.cells[col]);
            var c = x.localeCompare(y, undefined, { numeric: true });
            return up ? c : -c;
          });
          rows.forEach(function (r) { body.appendChild(r); });
        });
      });
    });
  }
  if (typeof document$ !== "undefined") {
    document$.subscribe(setup);  // Material: every page, instant navigation included
  } else {
    document.addEventListener("DOMContentLoaded", setup);
  }
})();
