// The recipient's share page while watermarked copies are being made: asks the server how
// far each one is (the element #share-progress names where) every 1.5 s, shows it, and
// gives a video its source once its copy is ready. A refused or ended link reloads the
// page, which then says why. No inline script: the Content-Security-Policy forbids it.
(function () {
  "use strict";
  var root = document.getElementById("share-progress");
  if (!root) return;
  var url = root.getAttribute("data-url");

  function show(it) {
    var box = document.querySelector('[data-position="' + it.position + '"]');
    if (!box) return false;
    var note = box.querySelector(".preparing");
    var video = box.querySelector("video[data-src]");
    if (it.ready) {
      if (video) {
        video.src = video.getAttribute("data-src");
        video.removeAttribute("data-src");
        video.preload = "metadata";
        video.hidden = false;
      }
      if (note) note.remove();
      return false;
    }
    if (it.problem) {
      if (note) {
        note.textContent = it.problem;
        note.className = "error";
      }
      return false;
    }
    if (note) {
      note.querySelector(".pct").textContent = String(it.percent);
      note.querySelector("progress").value = it.percent;
    }
    return true;
  }

  function tick() {
    fetch(url, { credentials: "same-origin", cache: "no-store" })
      .then(function (resp) {
        if (!resp.ok) {
          window.location.reload();
          return null;
        }
        return resp.json();
      })
      .then(function (data) {
        if (!data) return;
        var waiting = false;
        data.items.forEach(function (it) {
          if (show(it)) waiting = true;
        });
        if (waiting) window.setTimeout(tick, 1500);
      })
      .catch(function () {
        window.setTimeout(tick, 5000);
      });
  }

  window.setTimeout(tick, 1500);
})();
