// Copy buttons on the dataset page: <button class="copy" data-copy="ID"> copies #ID's text.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button.copy");
    if (!button) { return; }
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source || !navigator.clipboard) { return; }
    navigator.clipboard.writeText(source.textContent).then(function () {
      button.classList.add("copied");
      button.setAttribute("aria-live", "polite");
    });
  });
}());
