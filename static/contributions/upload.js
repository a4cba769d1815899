/* Upload page: pick, capture or drop several photos; each is sent on its own to
   POST /api/v1/contributions/ (session cookie + CSRF header) with its own progress bar,
   then its status is polled from GET /api/v1/contributions/{id}/ until it settles. */
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  if (!form) return;
  var apiUrl = form.dataset.apiUrl;
  var maxBytes = parseInt(form.dataset.maxBytes, 10) || 0;
  var maxMb = form.dataset.maxMb;
  var settled = (form.dataset.settled || "").split(",");
  var list = document.getElementById("file-list");
  var summary = document.getElementById("upload-summary");
  var button = document.getElementById("upload-button");
  var picker = document.getElementById("id_image");
  var camera = document.getElementById("id_camera");
  var dropzone = document.getElementById("dropzone");
  var csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  var queue = [];        // {file, row} waiting for the Upload button
  var CONCURRENCY = 2;
  // gettext/ngettext/interpolate come from the JavaScript catalog (/jsi18n/, loaded by base.html).
  var LABELS = {received: gettext("Received"), processing: gettext("Processing"),
                awaiting_review: gettext("Awaiting review"), awaiting_contributor: gettext("Waiting for you"),
                approved: gettext("Approved"),
                rejected: gettext("Rejected"), failed: gettext("Failed")};
  function fmt(s, values) { return interpolate(s, values, true); }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // Lighting is declared per photo, pre-filled from the light measured here with the
  // pipeline's own rule and thresholds (see views._light_rule): the batch's lighting question
  // gives way to one beside each photo.
  var lightingTpl = document.getElementById("lighting-template");
  var batchLighting = form.querySelector("fieldset[data-category=lighting]");
  var LOW = ["low_light", "night"];
  if (lightingTpl && batchLighting) { batchLighting.hidden = true; batchLighting.dataset.required = "false"; }

  function measureLowLight(file) {
    if (!window.createImageBitmap) return Promise.resolve(null);
    return window.createImageBitmap(file).then(function (bmp) {
      var d = form.dataset;
      var scale = Math.min(1, (parseInt(d.lightWorkSize, 10) || 256) / Math.max(bmp.width, bmp.height));
      var w = Math.max(1, Math.round(bmp.width * scale)), h = Math.max(1, Math.round(bmp.height * scale));
      var canvas = document.createElement("canvas");
      canvas.width = w; canvas.height = h;
      var ctx = canvas.getContext("2d");
      ctx.drawImage(bmp, 0, 0, w, h);
      var px = ctx.getImageData(0, 0, w, h).data;
      var n = w * h, sum = 0, dark = 0, luma = new Float32Array(n), darkLevel = parseFloat(d.lightDarkLevel);
      for (var i = 0; i < n; i++) {
        var y = (0.2126 * px[4 * i] + 0.7152 * px[4 * i + 1] + 0.0722 * px[4 * i + 2]) / 255;
        luma[i] = y; sum += y; if (y < darkLevel) dark++;
      }
      luma.sort();
      var p95 = luma[Math.round(0.95 * (n - 1))];
      return sum / n < parseFloat(d.lightMean) || dark / n > parseFloat(d.lightDarkFraction) ||
        p95 < parseFloat(d.lightP95);
    }).catch(function () { return null; });  // a format the browser cannot decode (HEIC): no estimate
  }

  function addLighting(item) {
    if (!lightingTpl) return;
    var frag = lightingTpl.content.cloneNode(true);
    var hint = frag.querySelector("[data-role=lighting-hint]");
    item.lighting = frag.querySelector("select");
    var chosen = batchLighting && batchLighting.querySelector("input:checked");
    if (chosen) item.lighting.value = chosen.value;
    item.lighting.addEventListener("change", function () { item.lightingTouched = true; });
    item.row.insertBefore(frag, item.bar);
    measureLowLight(item.file).then(function (low) {
      if (low === null) return;
      item.row.dataset.measuredLight = low ? "low" : "lit";
      hint.textContent = low ? form.dataset.measuredDark : form.dataset.measuredLit;
      if (item.lightingTouched) return;
      var isLow = LOW.indexOf(item.lighting.value) !== -1;
      if (low && !isLow) item.lighting.value = "low_light";
      else if (!low && isLow) item.lighting.value = "indoor";
    });
  }

  function humanSize(n) {
    var lang = document.documentElement.lang || undefined;
    return n >= 1048576
      ? fmt(gettext("%(size)s MB"), {size: (n / 1048576).toLocaleString(lang, {maximumFractionDigits: 1})})
      : fmt(gettext("%(size)s KB"), {size: Math.max(1, Math.round(n / 1024)).toLocaleString(lang)});
  }

  function addFiles(files) {
    for (var i = 0; i < files.length; i++) {
      var f = files[i];
      var row = el("li", "file-row");
      row.dataset.state = "queued";
      // A thumbnail of the chosen photo before sending (browsers that cannot show the format,
      // such as HEIC on most desktops, show the file name only).
      if (window.URL && URL.createObjectURL) {
        var thumb = el("img", "file-thumb");
        thumb.alt = fmt(gettext("The photo you chose: %(name)s"), {name: f.name || gettext("photo")});
        thumb.width = 64; thumb.height = 64;
        thumb.addEventListener("error", function () { this.remove(); });
        thumb.src = URL.createObjectURL(f);
        row.appendChild(thumb);
        row.classList.add("has-thumb");
      }
      var name = el("span", "file-name", f.name || gettext("photo"));
      var size = el("span", "muted small", humanSize(f.size));
      var bar = el("progress", "file-progress");
      bar.max = 100; bar.value = 0;
      bar.setAttribute("aria-label", fmt(gettext("Upload progress of %(name)s"), {name: f.name || gettext("photo")}));
      var state = el("span", "file-state small", gettext("Ready to upload"));
      var remove = el("button", "link small", gettext("Remove"));
      remove.type = "button";
      row.appendChild(name); row.appendChild(size); row.appendChild(bar); row.appendChild(state); row.appendChild(remove);
      list.appendChild(row);
      var item = {file: f, row: row, bar: bar, state: state};
      addLighting(item);
      remove.addEventListener("click", (function (it) {
        return function () { queue.splice(queue.indexOf(it), 1); it.row.remove(); };
      })(item));
      if (maxBytes && f.size > maxBytes) {
        fail(item, fmt(gettext("This file is %(size)s: at most %(max)s MB per photo."), {size: humanSize(f.size), max: maxMb}));
        continue;
      }
      queue.push(item);
    }
    summary.textContent = queue.length ? fmt(ngettext("%(count)s photo ready. Check your categories, then press Upload.",
      "%(count)s photos ready. Check your categories, then press Upload.", queue.length), {count: queue.length}) : "";
  }

  function fail(item, message) {
    item.row.dataset.state = "error";
    item.bar.hidden = true;
    item.state.textContent = message;
    item.state.className = "file-state small error";
    var rm = item.row.querySelector("button");
    if (rm) rm.remove();
  }

  function errorMessage(xhr) {
    try {
      var body = JSON.parse(xhr.responseText);
      if (body && body.error) {
        var msg = body.error.message || "";
        if (body.error.fields) {
          var parts = [];
          Object.keys(body.error.fields).forEach(function (k) { parts.push(body.error.fields[k].join(" ")); });
          if (parts.length && msg.indexOf(parts[0]) === -1) msg += " " + parts.join(" ");
        }
        if (msg) return msg;
      }
    } catch (e) { /* not JSON: fall through */ }
    if (xhr.status === 413) return fmt(gettext("The file is too large: at most %(max)s MB per photo."), {max: maxMb});
    if (xhr.status === 0) return gettext("The connection was lost. Please try again.");
    return fmt(gettext("The upload failed (error %(status)s). Please try again."), {status: xhr.status});
  }

  // The findings arrive with their sentences in the reader's language; the review request is
  // one click (the note can be added in My photos).
  function showFindings(item, id, body) {
    var box = item.row.querySelector(".findings");
    if (!box) { box = el("ul", "findings small"); item.row.appendChild(box); }
    box.replaceChildren();
    (body.findings || []).forEach(function (f) {
      var li = el("li", "", f.message); li.dataset.code = f.code; box.appendChild(li);
    });
    box.hidden = !(body.findings && body.findings.length);
    var ask = item.row.querySelector("button.ask-review");
    if (body.can_request_review && !ask) {
      ask = el("button", "btn ask-review", form.dataset.askLabel || "Ask a person to check this photo");
      ask.type = "button";
      ask.addEventListener("click", function () { askReview(item, id, ask); });
      item.row.appendChild(ask);
    } else if (!body.can_request_review && ask) {
      ask.remove();
    }
  }

  function askReview(item, id, button) {
    button.disabled = true;
    var xhr = new XMLHttpRequest();
    xhr.open("POST", apiUrl + id + "/review-request/");
    xhr.setRequestHeader("X-CSRFToken", csrf);
    xhr.setRequestHeader("Content-Type", "application/json");
    xhr.setRequestHeader("Accept", "application/json");
    xhr.onload = function () {
      if (xhr.status === 200) {
        var body = JSON.parse(xhr.responseText);
        setStatus(item, body.status, body.status_label);
        button.remove();
        item.row.appendChild(el("span", "small muted requested", form.dataset.askedLabel || "A moderator will look at it."));
      } else {
        button.disabled = false;
        item.row.appendChild(el("span", "small error", errorMessage(xhr)));
      }
    };
    xhr.onerror = function () { button.disabled = false; };
    xhr.send(JSON.stringify({note: ""}));
  }

  function setStatus(item, status, label) {
    item.row.dataset.status = status;
    var badge = item.row.querySelector(".badge");
    if (!badge) {
      badge = el("span", "badge");
      item.state.textContent = "";
      item.state.appendChild(badge);
    }
    badge.className = "badge " + status;
    badge.textContent = label || LABELS[status] || status;
  }

  function poll(item, id, delay) {
    if (settled.indexOf(item.row.dataset.status) !== -1) return;
    setTimeout(function () {
      var xhr = new XMLHttpRequest();
      xhr.open("GET", apiUrl + id + "/");
      xhr.setRequestHeader("Accept", "application/json");
      xhr.onload = function () {
        if (xhr.status === 200) {
          var body = JSON.parse(xhr.responseText);
          setStatus(item, body.status, body.status_label);
          showFindings(item, id, body);
          if (body.status === "rejected" && body.rejection_reason) {
            var r = item.row.querySelector(".reason") || item.row.appendChild(el("span", "reason small"));
            r.textContent = typeof body.rejection_reason === "string" ? body.rejection_reason
              : (body.rejection_reason.message || body.rejection_reason.code || "");
          }
        }
        if (xhr.status !== 404) poll(item, id, Math.min(delay * 1.5, 10000));
      };
      xhr.onerror = function () { poll(item, id, Math.min(delay * 2, 15000)); };
      xhr.send();
    }, delay);
  }

  function uploadOne(item, payload, done) {
    var data = new FormData();
    data.append("image", item.file, item.file.name || "photo.jpg");
    var categories = Object.assign({}, payload.categories);
    if (item.lighting) categories.lighting = item.lighting.value;
    data.append("categories", JSON.stringify(categories));
    data.append("free_text", JSON.stringify(payload.free_text));
    var xhr = new XMLHttpRequest();
    xhr.open("POST", apiUrl);
    xhr.setRequestHeader("X-CSRFToken", csrf);
    xhr.setRequestHeader("Accept", "application/json");
    item.row.dataset.state = "uploading";
    item.state.textContent = gettext("Uploading…");
    xhr.upload.onprogress = function (ev) {
      if (ev.lengthComputable) item.bar.value = Math.round(100 * ev.loaded / ev.total);
    };
    xhr.onload = function () {
      if (xhr.status === 201) {
        var body = JSON.parse(xhr.responseText);
        item.bar.value = 100;
        item.row.dataset.state = "done";
        item.row.dataset.id = body.id;
        var link = el("a", "small", gettext("View"));
        link.href = form.dataset.photosUrl + body.id + "/";
        setStatus(item, body.status);
        item.row.appendChild(link);
        poll(item, body.id, 1500);
        done(true);
      } else {
        fail(item, errorMessage(xhr));
        done(false);
      }
    };
    xhr.onerror = function () { fail(item, errorMessage(xhr)); done(false); };
    xhr.send(data);
  }

  function uploadAll(ev) {
    ev.preventDefault();
    if (!queue.length) {
      summary.textContent = gettext("Please choose at least one photo first.");
      return;
    }
    var missing = window.FCCategories.missing(form);
    if (missing.length) {
      summary.textContent = fmt(gettext("Please choose a value for: %(categories)s."), {categories: missing.join(gettext(", "))});
      var first = form.querySelector("fieldset[aria-invalid=true]");
      if (first) first.scrollIntoView({block: "center"});
      return;
    }
    var payload = window.FCCategories.collect(form);
    var items = queue.splice(0, queue.length);
    items.forEach(function (it) {
      var rm = it.row.querySelector("button"); if (rm) rm.remove();
      if (it.lighting) it.lighting.disabled = true;
    });
    var ok = 0, bad = 0, next = 0, running = 0;
    button.disabled = true;
    summary.textContent = fmt(ngettext("Uploading %(count)s photo…", "Uploading %(count)s photos…", items.length), {count: items.length});
    function pump() {
      while (running < CONCURRENCY && next < items.length) {
        running++;
        uploadOne(items[next++], payload, function (success) {
          running--;
          if (success) ok++; else bad++;
          if (ok + bad === items.length) {
            button.disabled = false;
            summary.textContent = bad
              ? fmt(gettext("%(ok)s uploaded, %(bad)s refused (see the message next to each file)."), {ok: ok, bad: bad})
              : fmt(ngettext("%(ok)s uploaded.", "%(ok)s uploaded.", ok), {ok: ok});
          } else {
            pump();
          }
        });
      }
    }
    pump();
  }

  picker.addEventListener("change", function () { addFiles(picker.files); picker.value = ""; });
  camera.addEventListener("change", function () { addFiles(camera.files); camera.value = ""; });
  ["dragenter", "dragover"].forEach(function (t) {
    dropzone.addEventListener(t, function (ev) { ev.preventDefault(); dropzone.classList.add("over"); });
  });
  ["dragleave", "drop"].forEach(function (t) {
    dropzone.addEventListener(t, function (ev) { ev.preventDefault(); dropzone.classList.remove("over"); });
  });
  dropzone.addEventListener("drop", function (ev) {
    if (ev.dataTransfer && ev.dataTransfer.files) addFiles(ev.dataTransfer.files);
  });
  form.addEventListener("submit", uploadAll);
  form.classList.add("js");
})();
