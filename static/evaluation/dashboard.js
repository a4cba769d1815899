// A <select data-autosubmit> submits its form on change (the button inside <noscript> does
// it without JavaScript). Kept in a file: the CSP allows no inline event handlers.
(function () {
  "use strict";
  for (const el of document.querySelectorAll("select[data-autosubmit]")) {
    el.addEventListener("change", function () { el.form.submit(); });
  }
})();
