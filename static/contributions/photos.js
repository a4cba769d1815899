/* My photos: poll the own photos' statuses and update badges, reasons and thumbnails in
   place, until every photo has settled. */
(function () {
  "use strict";
  var grid = document.getElementById("photo-grid");
  if (!grid) return;
  var url = grid.dataset.statusUrl;
  var delay = 2000;

  function update(p) {
    var card = grid.querySelector("li[data-id='" + p.id + "']");
    if (!card) return;
    card.dataset.status = p.status;
    var badge = card.querySelector("[data-role=badge]");
    badge.className = "badge " + p.status;
    badge.textContent = p.status_label;
    var reason = card.querySelector("[data-role=reason]");
    reason.textContent = p.reason || "";
    reason.hidden = !p.reason;
    var findings = card.querySelector("[data-role=findings]");
    if (findings) {
      findings.replaceChildren();
      (p.findings || []).forEach(function (f) {
        var li = document.createElement("li");
        li.dataset.code = f.code;
        li.textContent = f.message;
        findings.appendChild(li);
      });
      findings.hidden = !(p.findings && p.findings.length);
    }
    var form = card.querySelector("[data-role=review-request]");
    if (form) form.hidden = !p.can_request_review;
    var requested = card.querySelector("[data-role=requested]");
    if (requested) requested.hidden = !p.review_requested;
    var img = card.querySelector("img.thumb");
    if (img && p.thumb_url && img.getAttribute("src") !== p.thumb_url) img.setAttribute("src", p.thumb_url);
  }

  function tick() {
    var xhr = new XMLHttpRequest();
    xhr.open("GET", url);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.onload = function () {
      if (xhr.status !== 200) return;  // logged out or gone: stop quietly
      var body = JSON.parse(xhr.responseText);
      body.photos.forEach(update);
      if (!body.settled) {
        // Fast while the pipeline works on a photo, slow while only a moderator's decision is awaited.
        var busy = body.photos.some(function (p) { return p.status === "received" || p.status === "processing"; });
        delay = busy ? Math.min(delay * 1.3, 15000) : 60000;
        setTimeout(tick, delay);
      }
    };
    xhr.onerror = function () { setTimeout(tick, 15000); };
    xhr.send();
  }

  var pending = grid.querySelectorAll("li[data-status=received], li[data-status=processing], " +
                                      "li[data-status=awaiting_review]");
  if (pending.length) setTimeout(tick, delay);
})();
