// Workbench pages: keep a running training's progress current, and fill the compare box from
// the ticked runs. No inline script: the pages send a strict Content-Security-Policy.
(function () {
  "use strict";
  var box = document.getElementById("wb-progress");
  if (box && box.dataset.active === "1") {
    var url = "/api/v1/training-runs/" + box.dataset.run + "/";
    var bar = document.getElementById("wb-bar");
    var status = null;
    var poll = function () {
      fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (run) {
          if (!run) { return; }
          if (status === null) { status = run.status; }
          if (run.status !== status || run.progress.epoch > Number(bar.value)) {
            window.location.reload();  // the server renders the new epoch or the results, translated
            return;
          }
          window.setTimeout(poll, 3000);
        })
        .catch(function () { window.setTimeout(poll, 10000); });
    };
    window.setTimeout(poll, 3000);
  }
  var picks = document.querySelectorAll(".wb-pick");
  var field = document.getElementById("wb-runs");
  Array.prototype.forEach.call(picks, function (p) {
    p.addEventListener("change", function () {
      var ids = [];
      Array.prototype.forEach.call(picks, function (q) { if (q.checked) { ids.push(q.value); } });
      field.value = ids.join(",");
    });
  });
})();
