// The upload page's "what to expect": the points a photo with the chosen categories would earn
// if approved now (asked of /rewards/estimate/, which applies the crediting rule), kept up to
// date as the contributor changes their categories.
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  var out = document.getElementById("points-estimate");
  if (!form || !out || !window.FCCategories) return;
  var timer = null, last = "";

  function refresh() {
    var payload = window.FCCategories.collect(form);
    var query = JSON.stringify(payload.categories || {});
    if (query === last) return;
    last = query;
    var xhr = new XMLHttpRequest();
    xhr.open("GET", out.dataset.url + "?categories=" + encodeURIComponent(query));
    xhr.setRequestHeader("Accept", "application/json");
    xhr.onload = function () {
      if (xhr.status !== 200) return;
      try { out.textContent = JSON.parse(xhr.responseText).text; } catch (e) { /* keep the last sentence */ }
    };
    xhr.send();
  }

  form.addEventListener("change", function () {
    clearTimeout(timer);
    timer = setTimeout(refresh, 250);
  });
  refresh();
})();
