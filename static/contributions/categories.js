/* Declared categories: exclusive values ("prefer not to say", "none"), self-describe text,
   and serialisation to the API's {categories, free_text} JSON. No dependencies. */
(function () {
  "use strict";

  function fieldsets(root) {
    return Array.prototype.slice.call((root || document).querySelectorAll("fieldset[data-category]"));
  }

  function syncFreeText(fs) {
    var box = fs.querySelector(".free-text");
    if (!box) return;
    var on = !!fs.querySelector("input[data-free-text]:checked");
    box.hidden = !on;
    var input = box.querySelector("input");
    if (input) input.required = on;
  }

  function onChange(fs, ev) {
    var t = ev.target;
    if (!t || t.type !== "checkbox" || !t.checked) { syncFreeText(fs); return; }
    var boxes = fs.querySelectorAll("input[type=checkbox]");
    // An exclusive value clears the others; any other value clears the exclusive ones.
    for (var i = 0; i < boxes.length; i++) {
      var b = boxes[i];
      if (b === t) continue;
      if (t.dataset.exclusive === "true" || b.dataset.exclusive === "true") b.checked = false;
    }
    syncFreeText(fs);
  }

  function init(root) {
    fieldsets(root).forEach(function (fs) {
      fs.addEventListener("change", function (ev) { onChange(fs, ev); });
      syncFreeText(fs);
    });
  }

  /** {categories: {key: value | [values]}, free_text: {key: text}} from the form. */
  function collect(root) {
    var categories = {}, freeText = {};
    fieldsets(root).forEach(function (fs) {
      var key = fs.dataset.category;
      var checked = Array.prototype.map.call(fs.querySelectorAll("input[name='" + fs.dataset.field + "']:checked"),
        function (i) { return i.value; });
      if (fs.dataset.multiple === "true") {
        if (checked.length) categories[key] = checked;
      } else if (checked.length) {
        categories[key] = checked[0];
      }
      var text = fs.querySelector("input[name='" + fs.dataset.textField + "']");
      if (text && !text.closest(".free-text").hidden && text.value.trim()) freeText[key] = text.value.trim();
    });
    return {categories: categories, free_text: freeText};
  }

  /** Labels of required categories with nothing chosen (each such fieldset is marked invalid). */
  function missing(root) {
    var out = [];
    fieldsets(root).forEach(function (fs) {
      var empty = fs.dataset.required === "true" && !fs.querySelector("input[name='" + fs.dataset.field + "']:checked");
      if (empty) { fs.setAttribute("aria-invalid", "true"); out.push(fs.dataset.label); }
      else if (!fs.querySelector(".errorlist")) fs.removeAttribute("aria-invalid");
    });
    return out;
  }

  window.FCCategories = {init: init, collect: collect, missing: missing};
  document.addEventListener("DOMContentLoaded", function () { init(document); });
})();
