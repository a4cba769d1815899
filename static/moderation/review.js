/* The review screen: keyboard-driven, with a buffer of leased photos so that a decision
 * shows the next one at once (its images are preloaded while the moderator looks at the
 * current one). Talks to /api/v1/moderation/next/ and /api/v1/moderation/{id}/decision/. */
(function () {
  "use strict";
  const cfg = JSON.parse(document.getElementById("review-config").textContent);
  const root = document.getElementById("review");
  const $ = (id) => document.getElementById(id);
  const csrf = root.querySelector("input[name=csrfmiddlewaretoken]").value;
  const BUFFER = cfg.buffer || 2;
  const buffer = []; // leased items, buffer[0] is on screen
  let filling = null;
  let mode = "idle"; // idle | reject | correct | help
  let inflight = 0; // decisions sent and not answered yet (each on its own photo)
  let loadFailed = false; // the last refill ended on network errors
  let overlays = true;
  // Marking a face the detector missed: the box in pixels of the stored original, and the
  // approval waiting for it.
  let box = null;
  let boxPending = null;
  let dragFrom = null;
  const preloaded = new Map();
  // Photos decided on this page, newest last. A lease answered while a decision was still in
  // flight could hand the same photo back: they are sent as excluded and never shown again.
  const decided = [];
  const MAX_EXCLUDED = 10; // the API's limit on "held"
  function rememberDecided(id) { decided.push(id); if (decided.length > MAX_EXCLUDED) decided.shift(); }

  function status(text) { $("review-status").textContent = text; }
  // gettext/ngettext/interpolate come from the JavaScript catalog (/jsi18n/, loaded by base.html).
  const fmt = (s, values) => interpolate(s, values, true);
  const lang = document.documentElement.lang || undefined;
  const num = (n, digits) => Number(n).toLocaleString(lang, { minimumFractionDigits: digits, maximumFractionDigits: digits });
  // What the moderator reads after a decision: the API's outcome key is never shown raw.
  const DONE = { approve: gettext("Approved"), reject: gettext("Rejected"), correct: gettext("Corrected and approved"),
    skip: gettext("Skipped"), escalate: gettext("Escalated") };
  const OUTCOMES = { pending: gettext("waiting for another moderator"), approved: gettext("the photo is approved"),
    rejected: gettext("the photo is rejected"), escalated: gettext("sent to an admin"), skipped: gettext("you will not see it again") };

  async function api(url, body, timeoutMs) {
    // A request that hangs (a stalled connection) must not freeze the screen: it is aborted
    // after timeoutMs and the caller sees an exception, like any network error.
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), timeoutMs || 30000);
    let resp;
    try {
      resp = await fetch(url, {
        method: "POST", credentials: "same-origin", signal: ctl.signal,
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, "Accept": "application/json" },
        body: JSON.stringify(body || {}),
      });
    } finally {
      clearTimeout(timer);
    }
    let data = null;
    if (resp.status !== 204) { try { data = await resp.json(); } catch (e) { data = null; } }
    return { status: resp.status, data };
  }

  function preload(item) {
    for (const url of [item.images.original, item.images.enhanced]) {
      if (url && !preloaded.has(url)) { const img = new Image(); img.src = url; preloaded.set(url, img); }
    }
  }

  async function fill() {
    // One refill at a time; each call leases one more photo until the buffer is full.
    if (filling) return filling;
    filling = (async () => {
      let tries = 0;
      try {
        while (buffer.length < BUFFER && tries < 2 * BUFFER + 2) {
          tries += 1;
          const held = buffer.map((i) => i.id);
          const room = Math.max(0, MAX_EXCLUDED - held.length);
          const excluded = held.concat(room ? decided.filter((id) => !held.includes(id)).slice(-room) : []);
          let r;
          try {
            // A lease is safe to ask for again (the server renews one already held).
            r = await api(cfg.next_url, { held: excluded }, 8000);
            loadFailed = false;
          } catch (e) {
            loadFailed = true;
            status(gettext("The next photo is slow to load; trying again…"));
            continue;
          }
          if (r.status === 200 && r.data) {
            // Leased before a decision on it was recorded: ask again, now excluding it.
            if (buffer.some((i) => i.id === r.data.id) || decided.includes(r.data.id)) continue;
            buffer.push(r.data); preload(r.data);
            root.dataset.buffered = String(buffer.length);
            if (buffer.length === 1) show();
          } else if (r.status === 204) {
            break;
          } else {
            status((r.data && r.data.error && r.data.error.message) || gettext("The queue could not be loaded."));
            break;
          }
        }
      } catch (e) {
        loadFailed = true;
      } finally {
        filling = null;
      }
      if (!buffer.length) show();
    })();
    return filling;
  }

  function el(tag, attrs, text) {
    const e = document.createElementNS(tag === "svg" || ["rect", "circle", "g"].includes(tag) ?
      "http://www.w3.org/2000/svg" : "http://www.w3.org/1999/xhtml", tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text != null) e.textContent = text;
    return e;
  }

  function drawOverlay(svg, item, detections) {
    // The viewBox is the stored original's pixel size, so the boxes scale with the image.
    svg.replaceChildren();
    svg.setAttribute("viewBox", `0 0 ${item.width} ${item.height}`);
    svg.setAttribute("preserveAspectRatio", "none");
    const r = Math.max(2, Math.round(Math.min(item.width, item.height) / 150));
    for (const d of detections || []) {
      const [x1, y1, x2, y2] = d.box;
      const g = el("g");
      g.appendChild(el("rect", { x: x1, y: y1, width: x2 - x1, height: y2 - y1, class: "box",
        "stroke-width": r }));
      for (const [x, y] of d.landmarks || []) g.appendChild(el("circle", { cx: x, cy: y, r: r * 1.5, class: "lm" }));
      svg.appendChild(g);
    }
    svg.style.display = overlays ? "" : "none";
  }

  function labelOf(item, key, value) {
    const cat = item.taxonomy.categories.find((c) => c.key === key);
    const vals = Array.isArray(value) ? value : [value];
    const lab = vals.map((v) => { const f = cat && cat.values.find((x) => x.key === v); return f ? f.label : v; });
    return [cat ? cat.label : key, lab.join(", ")];
  }

  function show() {
    closePanels();
    const item = buffer[0];
    root.dataset.buffered = String(buffer.length);
    if (!item) {
      delete root.dataset.current;
      $("review-item").hidden = true;
      if (inflight || filling) {
        // A decision or a lease is still on its way: the queue may not be empty.
        root.dataset.state = "loading"; $("review-empty").hidden = true;
        status(gettext("Loading the next photo…"));
        return;
      }
      if (loadFailed) {
        root.dataset.state = "error"; $("review-empty").hidden = true;
        status(gettext("The queue could not be loaded (network error). Reload the page to try again."));
        return;
      }
      root.dataset.state = "empty"; $("review-empty").hidden = false;
      status(gettext("The queue is empty."));
      return;
    }
    if (root.dataset.current !== item.id) resetZoom(); // each photo starts whole
    root.dataset.state = "ready"; root.dataset.current = item.id;
    $("review-empty").hidden = true; $("review-item").hidden = false;
    const a = item.analysis || {};
    $("img-original").src = item.images.original;
    drawOverlay($("overlay-original"), item, a.detections_original);
    if (item.images.enhanced) {
      $("fig-enhanced").hidden = false; $("img-enhanced").src = item.images.enhanced;
      drawOverlay($("overlay-enhanced"), item, a.detections_enhanced);
    } else { $("fig-enhanced").hidden = true; $("img-enhanced").removeAttribute("src"); }

    const dl = $("ev-categories"); dl.replaceChildren();
    for (const [key, value] of Object.entries(item.categories)) {
      const [label, text] = labelOf(item, key, value);
      dl.appendChild(el("dt", {}, label));
      const dd = el("dd", {}, text + (item.free_text[key] ? ` (“${item.free_text[key]}”)` : ""));
      if (key in item.corrected_categories) dd.appendChild(el("strong", {}, ` → ${labelOf(item, key, item.corrected_categories[key])[1]}`));
      dl.appendChild(dd);
    }
    $("ev-reviews").textContent = fmt(gettext("So far: %(approvals)s, %(rejections)s."), {
      approvals: fmt(ngettext("%(n)s approval", "%(n)s approvals", item.reviews_so_far.approve), { n: item.reviews_so_far.approve }),
      rejections: fmt(ngettext("%(n)s rejection", "%(n)s rejections", item.reviews_so_far.reject), { n: item.reviews_so_far.reject }) });

    const ul = $("ev-analysis"); ul.replaceChildren();
    if (item.analysis) {
      const ll = a.lowlight || {};
      ul.appendChild(el("li", {}, (ll.is_low_light ? gettext("Low light: yes") : gettext("Low light: no")) +
        (ll.mean != null ? " " + fmt(gettext("(brightness %(mean)s)"), { mean: num(ll.mean, 3) }) : "") +
        (a.enhanced ? gettext(", brightened copy made") : "")));
      ul.appendChild(el("li", {}, fmt(gettext("Faces found: %(count)s"), { count: (a.detections_original || []).length }) +
        (a.detections_enhanced && a.detections_enhanced.length
          ? fmt(gettext(", %(count)s in the brightened copy"), { count: a.detections_enhanced.length }) : "")));
      if (a.sharpness != null) ul.appendChild(el("li", {}, fmt(gettext("Sharpness: %(value)s"), { value: num(a.sharpness, 1) })));
      ul.appendChild(el("li", {}, fmt(gettext("Automatic check: %(verdict)s"), { verdict: a.verdict_label || a.verdict_code || "—" })));
    } else ul.appendChild(el("li", {}, gettext("No analysis recorded for this photo.")));

    $("ev-pseudonym").textContent = item.contributor.pseudonym;
    const h = item.contributor;
    $("ev-history").textContent = fmt(ngettext(
      "%(total)s photo: %(approved)s approved, %(rejected)s rejected, %(awaiting)s awaiting review; %(flags)s open flags.",
      "%(total)s photos: %(approved)s approved, %(rejected)s rejected, %(awaiting)s awaiting review; %(flags)s open flags.",
      h.total), h);

    const rq = item.review_request;
    $("ev-request-card").hidden = !rq;
    $("ev-request-note").textContent = rq ? (rq.note ? `“${rq.note}”` : gettext("(no note)")) : "";

    const fl = $("ev-flags"); fl.replaceChildren();
    // The pipeline's findings are flags: the machine advises, the moderator decides.
    for (const f of item.findings || []) {
      fl.appendChild(el("li", { class: "flag flag-finding", "data-code": f.code }, f.label));
    }
    if (!item.flags.length && !(item.findings || []).length) fl.appendChild(el("li", { class: "muted" }, gettext("No flags.")));
    for (const f of item.flags) {
      const li = el("li", { class: "flag flag-" + f.kind });
      if (f.related) {
        const img = el("img", { src: f.related.thumbnail_url, alt: gettext("Flagged related photo"), width: 72, height: 72, loading: "lazy" });
        img.addEventListener("error", () => { if (img.src.indexOf("original") < 0) img.src = f.related.original_url; }, { once: true });
        li.appendChild(img);
      }
      // Plain words: "3 bits apart" says nothing to a moderator; say how alike the photos are.
      const hamming = f.detail && f.detail.hamming;
      const detail = f.kind === "near_duplicate" ? (hamming === 0 ? gettext("the same picture")
          : fmt(ngettext("almost the same picture (%(n)s small difference)", "almost the same picture (%(n)s small differences)", hamming), { n: hamming })) :
        f.kind === "same_face" ? fmt(gettext("face distance %(score)s (lower is more alike)"), { score: num(f.score, 2) }) :
        f.kind === "inconsistent_declaration" ? fmt(gettext("differs in: %(fields)s"), { fields: (f.detail.fields_labels || f.detail.fields || []).join(gettext(", ")) }) : "";
      li.appendChild(el("span", {}, `${f.label}: ${detail}` + (f.related ? " " + (f.related.same_account ?
        gettext("(same account)") : fmt(gettext("(account %(pseudonym)s)"), f.related)) + ", " + (f.related.status_label || f.related.status) : "") +
        (f.resolved ? " " + gettext("(resolved)") : "")));
      fl.appendChild(li);
    }
    status(fmt(gettext("Reviewing a photo uploaded %(when)s. %(more)s more loaded."),
      { when: new Date(item.created_at).toLocaleString(lang), more: buffer.length - 1 }));
    root.focus({ preventScroll: true });
  }

  async function decide(decision, extra) {
    const item = buffer[0];
    if (!item) return;
    const body = Object.assign({ decision }, extra || {});
    // Show the next photo at once; the request finishes in the background, so the moderator
    // can decide on the next photo before it is answered (the photo left the buffer already:
    // a second key press cannot decide the same photo twice).
    buffer.shift();
    rememberDecided(item.id);
    inflight += 1;
    show();
    let r;
    try {
      r = await api(cfg.decision_url.replace("{id}", item.id), body);
    } catch (e) {
      r = { status: 0, data: null }; // network error
    }
    inflight -= 1;
    if (r.status === 200) {
      status(fmt(gettext("%(done)s: %(outcome)s."), { done: DONE[decision] || decision, outcome: OUTCOMES[r.data.outcome] || r.data.outcome }) +
        (buffer[0] ? " " + gettext("Next photo shown.") : ""));
      root.dataset.lastOutcome = r.data.outcome;
    } else if (r.status === 400) {
      if (decided.includes(item.id)) decided.splice(decided.indexOf(item.id), 1);
      buffer.unshift(item); show(); // a bad reason or correction: let the moderator fix it
      status((r.data && r.data.error && r.data.error.message) || gettext("The decision was refused."));
    } else {
      status(((r.data && r.data.error && r.data.error.message) || gettext("The decision could not be recorded.")) +
        " " + gettext("The photo was dropped from your screen."));
    }
    root.dataset.decisions = String(Number(root.dataset.decisions || 0) + 1);
    fill();
  }

  function reveal(panel) {
    // Stacked layout: the panel opens in the flow under the action bar; bring it into view.
    if (getComputedStyle(panel).position !== "fixed") panel.scrollIntoView({ block: "nearest" });
  }

  function closePanels() {
    for (const id of ["reject-panel", "correct-panel", "help-panel", "box-panel"]) $(id).hidden = true;
    $("reject-error").textContent = ""; $("correct-error").textContent = ""; $("box-error").textContent = "";
    $("wrap-original").classList.remove("drawing");
    const drawn = $("overlay-original").querySelector(".drawn-box"); if (drawn) drawn.remove();
    box = null; boxPending = null; dragFrom = null;
    mode = "idle";
  }

  // --- the face box (mouse drag, touch, keyboard nudge) -----------------------------------
  function approve(decision, extra) {
    const item = buffer[0];
    if (!item) return;
    if (!item.needs_face_box) { decide(decision, extra); return; }
    openBox(decision, extra);
  }

  function openBox(decision, extra) {
    const item = buffer[0];
    closePanels(); mode = "box"; boxPending = { decision, extra: extra || {} };
    // A starting box in the middle, so a keyboard alone can place it.
    const side = Math.min(item.width, item.height) * 0.4;
    box = [(item.width - side) / 2, (item.height - side) / 2, (item.width + side) / 2, (item.height + side) / 2];
    $("wrap-original").classList.add("drawing");
    if (!overlays) toggleOverlays();
    $("box-panel").hidden = false;
    drawBox();
    status(gettext("Mark the face: drag a box over it, or use the arrow keys; Enter approves."));
  }

  function drawBox() {
    const svg = $("overlay-original");
    let rect = svg.querySelector(".drawn-box");
    if (!box) { if (rect) rect.remove(); return; }
    if (!rect) { rect = el("rect", { class: "drawn-box" }); svg.appendChild(rect); }
    const item = buffer[0];
    rect.setAttribute("x", box[0]); rect.setAttribute("y", box[1]);
    rect.setAttribute("width", box[2] - box[0]); rect.setAttribute("height", box[3] - box[1]);
    rect.setAttribute("stroke-width", Math.max(2, Math.round(Math.min(item.width, item.height) / 150)));
    root.dataset.faceBox = box.map(Math.round).join(",");
  }

  function toImage(ev) {
    // The overlay's viewBox is the original's pixel size and it is stretched over the image.
    const item = buffer[0];
    const r = $("overlay-original").getBoundingClientRect();
    const x = (ev.clientX - r.left) / r.width * item.width;
    const y = (ev.clientY - r.top) / r.height * item.height;
    return [Math.min(item.width, Math.max(0, x)), Math.min(item.height, Math.max(0, y))];
  }

  function nudge(dx, dy, grow) {
    const item = buffer[0];
    const w = box[2] - box[0], h = box[3] - box[1];
    const nw = Math.max(16, Math.min(item.width, w + grow)), nh = Math.max(16, Math.min(item.height, h + grow));
    let x1 = box[0] - (nw - w) / 2 + dx, y1 = box[1] - (nh - h) / 2 + dy;
    x1 = Math.min(item.width - nw, Math.max(0, x1)); y1 = Math.min(item.height - nh, Math.max(0, y1));
    box = [x1, y1, x1 + nw, y1 + nh];
    drawBox();
  }

  function confirmBox() {
    if (!box || !boxPending) return;
    if (box[2] - box[0] < 16 || box[3] - box[1] < 16) {
      $("box-error").textContent = gettext("The box is too small: drag over the whole face."); return;
    }
    const pending = boxPending, faceBox = box.map((v) => Math.round(v * 10) / 10);
    closePanels();
    decide(pending.decision, Object.assign({}, pending.extra, { face_box: faceBox }));
  }

  const overlay = $("overlay-original");
  overlay.addEventListener("pointerdown", (ev) => {
    if (mode !== "box") return;
    ev.preventDefault();
    overlay.setPointerCapture(ev.pointerId);
    dragFrom = toImage(ev);
  });
  overlay.addEventListener("pointermove", (ev) => {
    if (mode !== "box" || !dragFrom) return;
    const [x, y] = toImage(ev);
    box = [Math.min(dragFrom[0], x), Math.min(dragFrom[1], y), Math.max(dragFrom[0], x), Math.max(dragFrom[1], y)];
    drawBox();
  });
  const endDrag = () => { dragFrom = null; };
  overlay.addEventListener("pointerup", endDrag);
  overlay.addEventListener("pointercancel", endDrag);
  $("box-confirm").addEventListener("click", confirmBox);
  $("box-cancel").addEventListener("click", () => { closePanels(); root.focus(); });

  function openReject() {
    if (!buffer[0]) return;
    closePanels(); mode = "reject"; $("reject-note").value = ""; $("reject-panel").hidden = false;
    reveal($("reject-panel"));
    $("reject-panel").querySelector("button").focus();
  }

  function reject(code) {
    const note = $("reject-note").value.trim();
    if (code === "other" && !note) { $("reject-error").textContent = gettext("Type a note for “other”, then press Ctrl+Enter."); $("reject-note").focus(); return; }
    closePanels();
    decide("reject", { reason_code: code, note });
  }

  function openCorrect() {
    const item = buffer[0];
    if (!item) return;
    closePanels(); mode = "correct";
    const box = $("correct-fields"); box.replaceChildren();
    const current = Object.assign({}, item.categories, item.corrected_categories);
    for (const cat of item.taxonomy.categories) {
      const id = "fix-" + cat.key;
      const cur0 = current[cat.key];
      if (!cat.multiple && cat.values.some((v) => v.swatch)) {
        // Skin tone: the ten Monk swatches as radio buttons, as on the contributor's form
        // (drawn as SVG: the page's CSP allows no inline style).
        const fs = el("fieldset", { class: "swatch-fix", "data-cat": cat.key });
        fs.appendChild(el("legend", {}, cat.label));
        for (const v of cat.values) {
          const lab = el("label", { class: "swatch-option", title: v.label });
          const input = el("input", { type: "radio", name: "fix-" + cat.key, value: v.key });
          if (cur0 === v.key) input.checked = true;
          lab.appendChild(input);
          if (v.swatch) {
            const svg = el("svg", { viewBox: "0 0 20 20", width: 32, height: 32, "aria-hidden": "true", class: "swatch" });
            svg.appendChild(el("circle", { cx: 10, cy: 10, r: 9, fill: v.swatch, stroke: "#555", "stroke-width": 1 }));
            lab.appendChild(svg);
          }
          lab.appendChild(el("span", { class: "swatch-label" }, v.label));
          fs.appendChild(lab);
        }
        box.appendChild(fs);
        continue;
      }
      const wrap = el("p"); wrap.appendChild(el("label", { for: id }, cat.label));
      const sel = el("select", { id, name: cat.key });
      if (cat.multiple) { sel.multiple = true; sel.size = Math.min(6, cat.values.length); }
      const cur = current[cat.key]; const curs = Array.isArray(cur) ? cur : [cur];
      for (const v of cat.values) {
        const o = el("option", { value: v.key }, v.label);
        if (curs.includes(v.key)) o.selected = true;
        sel.appendChild(o);
      }
      wrap.appendChild(sel); box.appendChild(wrap);
    }
    $("correct-panel").hidden = false; reveal($("correct-panel"));
    const first = box.querySelector("select, input"); if (first) first.focus();
  }

  function submitCorrect() {
    const item = buffer[0];
    const changed = {};
    for (const sel of $("correct-fields").querySelectorAll("select")) {
      const cat = item.taxonomy.categories.find((c) => c.key === sel.name);
      const value = cat.multiple ? Array.from(sel.selectedOptions).map((o) => o.value) : sel.value;
      const before = item.categories[sel.name];
      if (JSON.stringify(value) !== JSON.stringify(before)) changed[sel.name] = value;
    }
    for (const fs of $("correct-fields").querySelectorAll("fieldset[data-cat]")) {
      const checked = fs.querySelector("input:checked");
      const key = fs.dataset.cat;
      if (checked && checked.value !== item.categories[key]) changed[key] = checked.value;
    }
    closePanels();
    if (Object.keys(changed).length) approve("correct", { categories: changed }); else approve("approve");
  }

  function toggleHelp() {
    const open = $("help-panel").hidden;
    closePanels();
    if (open) { mode = "help"; $("help-panel").hidden = false; }
  }

  function toggleOverlays() {
    overlays = !overlays;
    for (const s of root.querySelectorAll("svg.overlay")) s.style.display = overlays ? "" : "none";
  }


  // --- zoom and pan (buttons, keys Z/X/0 and arrows, wheel, drag, two fingers) -------------
  // Both photos move together; the overlay is inside the zoomed element, so boxes, landmarks
  // and a face box being drawn stay on the face (toImage reads the overlay's transformed box).
  const ZOOM_MAX = 8;
  let zoom = { s: 1, x: 0, y: 0 }; // scale; translation as a fraction of the photo's size
  const pointers = new Map();

  function applyZoom() {
    const z = zoom;
    z.s = Math.min(ZOOM_MAX, Math.max(1, z.s));
    z.x = Math.min(0, Math.max(1 - z.s, z.x)); z.y = Math.min(0, Math.max(1 - z.s, z.y));
    for (const w of root.querySelectorAll(".photo-wrap")) {
      w.querySelector(".photo-zoom").style.transform = z.s === 1 ? "" :
        `translate(${z.x * 100}%, ${z.y * 100}%) scale(${z.s})`;
      w.classList.toggle("zoomed", z.s > 1);
    }
    root.dataset.zoom = z.s.toFixed(2);
    $("zoom-level").textContent = z.s > 1 ? fmt(gettext("Zoom: %(times)s×"), { times: num(z.s, 1) }) : "";
  }

  function zoomAt(factor, fx, fy) {
    // (fx, fy): the point that stays put, as a fraction of the photo's frame.
    const s2 = Math.min(ZOOM_MAX, Math.max(1, zoom.s * factor));
    const cx = (fx - zoom.x) / zoom.s, cy = (fy - zoom.y) / zoom.s;
    zoom = { s: s2, x: fx - cx * s2, y: fy - cy * s2 };
    applyZoom();
  }

  function resetZoom() { zoom = { s: 1, x: 0, y: 0 }; pointers.clear(); applyZoom(); }

  function framePoint(wrap, clientX, clientY) {
    const r = wrap.getBoundingClientRect();
    return [(clientX - r.left) / r.width, (clientY - r.top) / r.height];
  }

  for (const wrap of root.querySelectorAll(".photo-wrap")) {
    wrap.addEventListener("wheel", (ev) => {
      if (wrap.classList.contains("drawing") && !ev.ctrlKey) return;
      ev.preventDefault();
      zoomAt(Math.exp(-ev.deltaY * 0.0015), ...framePoint(wrap, ev.clientX, ev.clientY));
    }, { passive: false });
    wrap.addEventListener("dblclick", (ev) => {
      if (wrap.classList.contains("drawing")) return;
      if (zoom.s > 1) resetZoom(); else zoomAt(2.5, ...framePoint(wrap, ev.clientX, ev.clientY));
    });
    wrap.addEventListener("pointerdown", (ev) => {
      if (wrap.classList.contains("drawing")) return; // the pointer draws the face box
      pointers.set(ev.pointerId, [ev.clientX, ev.clientY]);
      if (pointers.size === 2 || zoom.s > 1) { wrap.setPointerCapture(ev.pointerId); ev.preventDefault(); }
    });
    wrap.addEventListener("pointermove", (ev) => {
      if (!pointers.has(ev.pointerId)) return;
      const r = wrap.getBoundingClientRect();
      const before = [...pointers.values()];
      pointers.set(ev.pointerId, [ev.clientX, ev.clientY]);
      const after = [...pointers.values()];
      if (after.length >= 2) {
        const d = (p) => Math.hypot(p[0][0] - p[1][0], p[0][1] - p[1][1]);
        const mid = framePoint(wrap, (after[0][0] + after[1][0]) / 2, (after[0][1] + after[1][1]) / 2);
        if (d(before) > 0) zoomAt(d(after) / d(before), ...mid);
      } else if (zoom.s > 1) {
        zoom.x += (ev.clientX - before[0][0]) / r.width; zoom.y += (ev.clientY - before[0][1]) / r.height;
        applyZoom();
      }
    });
    for (const type of ["pointerup", "pointercancel", "pointerleave"]) {
      wrap.addEventListener(type, (ev) => { pointers.delete(ev.pointerId); });
    }
  }
  root.querySelector(".zoom-controls").addEventListener("click", (ev) => {
    const b = ev.target.closest("button[data-zoom]"); if (!b) return;
    if (b.dataset.zoom === "in") zoomAt(1.5, 0.5, 0.5);
    else if (b.dataset.zoom === "out") zoomAt(1 / 1.5, 0.5, 0.5);
    else resetZoom();
  });

  function zoomKey(ev) {
    // Z / X / 0 zoom; the arrow keys move a zoomed photo. True when the key was used.
    const key = ev.key.toLowerCase();
    if (key === "z") { zoomAt(1.5, 0.5, 0.5); return true; }
    if (key === "x") { zoomAt(1 / 1.5, 0.5, 0.5); return true; }
    if (key === "0") { resetZoom(); return true; }
    const step = 0.1 / zoom.s;
    const moves = { arrowleft: [step, 0], arrowright: [-step, 0], arrowup: [0, step], arrowdown: [0, -step] };
    if (zoom.s > 1 && moves[key]) { zoom.x += moves[key][0] * zoom.s; zoom.y += moves[key][1] * zoom.s; applyZoom(); return true; }
    return false;
  }

  document.addEventListener("keydown", (ev) => {
    if (ev.altKey || ev.metaKey) return;
    const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(ev.target.tagName);
    if (ev.key === "Escape") { closePanels(); root.focus(); ev.preventDefault(); return; }
    if (mode === "reject") {
      if (ev.ctrlKey && ev.key === "Enter") { reject("other"); ev.preventDefault(); return; }
      if (typing) return;
      const n = parseInt(ev.key, 10);
      if (n >= 1 && n <= cfg.reasons.length) { reject(cfg.reasons[n - 1].code); ev.preventDefault(); }
      return;
    }
    if (mode === "correct") {
      if (ev.key === "Enter") { submitCorrect(); ev.preventDefault(); }
      return;
    }
    if (mode === "box") {
      if (typing) return;
      const item = buffer[0];
      const step = Math.max(1, Math.round(Math.min(item.width, item.height) * (ev.shiftKey ? 0.05 : 0.01)));
      const moves = { ArrowLeft: [-step, 0, 0], ArrowRight: [step, 0, 0], ArrowUp: [0, -step, 0],
        ArrowDown: [0, step, 0], "+": [0, 0, 2 * step], "=": [0, 0, 2 * step], "-": [0, 0, -2 * step] };
      if (ev.key === "Enter") { confirmBox(); ev.preventDefault(); }
      else if (moves[ev.key]) { nudge(...moves[ev.key]); ev.preventDefault(); }
      return;
    }
    if (typing || ev.ctrlKey) return;
    const key = ev.key.toLowerCase();
    if (ev.key === "?") { toggleHelp(); ev.preventDefault(); return; }
    if (!buffer[0]) return;
    if (key === "a") approve("approve");
    else if (key === "r") openReject();
    else if (key === "c") openCorrect();
    else if (key === "s") decide("skip");
    else if (key === "e") decide("escalate");
    else if (key === "o") toggleOverlays();
    else if (!zoomKey(ev)) return;
    ev.preventDefault();
  });

  root.querySelector("#review-actions").addEventListener("click", (ev) => {
    const b = ev.target.closest("button[data-action]"); if (!b) return;
    const a = b.dataset.action;
    if (a === "approve") approve("approve"); else if (a === "reject") openReject();
    else if (a === "correct") openCorrect(); else if (a === "skip") decide("skip");
    else if (a === "escalate") decide("escalate"); else if (a === "help") toggleHelp();
  });
  $("reject-reasons").addEventListener("click", (ev) => {
    const b = ev.target.closest("button[data-reason]"); if (b) reject(b.dataset.reason);
  });
  $("correct-panel").addEventListener("submit", (ev) => { ev.preventDefault(); submitCorrect(); });
  $("review-retry").addEventListener("click", () => fill());
  fill();
})();
