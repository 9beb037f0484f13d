// Reloads a page that follows background work (a release build, a share's watermarked
// copies) every few seconds while the page marks it as under way: an element with
// data-reload-after="MILLISECONDS". No inline script: the Content-Security-Policy allows
// scripts from this site only.
(function () {
  "use strict";
  var marker = document.querySelector("[data-reload-after]");
  if (!marker) return;
  var wait = Number(marker.getAttribute("data-reload-after")) || 2000;
  window.setTimeout(function () { window.location.reload(); }, wait);
})();
