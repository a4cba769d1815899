// Polls the build's progress and moves the bar; reloads the page when the build ends.
(function () {
  "use strict";
  var box = document.querySelector(".build-progress");
  if (!box) { return; }
  var url = box.getAttribute("data-progress-url");
  var fill = box.querySelector(".fill");
  var phase = box.querySelector(".phase");
  var numbers = box.querySelector(".numbers");
  function poll() {
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (p) {
        if (!p) { setTimeout(poll, 3000); return; }
        fill.style.width = p.percent + "%";
        phase.textContent = p.phase_label || p.phase;
        numbers.textContent = p.done + " / " + p.total;
        if (p.status === "published" || p.status === "failed") { window.location.reload(); return; }
        setTimeout(poll, 1500);
      })
      .catch(function () { setTimeout(poll, 5000); });
  }
  poll();
})();
