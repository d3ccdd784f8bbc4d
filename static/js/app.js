// Small progressive enhancements; every page works without this file.
(function () {
  "use strict";
  function formatLeft(ms, endedLabel) {
    if (ms <= 0) return endedLabel;
    var s = Math.floor(ms / 1000), d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600),
        m = Math.floor((s % 3600) / 60), sec = s % 60;
    var pad = function (n) { return String(n).padStart(2, "0"); };
    return (d ? d + "d " : "") + pad(h) + ":" + pad(m) + ":" + pad(sec);
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll("time[data-countdown]").forEach(function (el) {
      var end = Date.parse(el.getAttribute("datetime"));
      if (!isNaN(end)) { el.textContent = formatLeft(end - now, el.dataset.ended || ""); }
    });
  }
  document.addEventListener("DOMContentLoaded", function () { tick(); setInterval(tick, 1000); });
  document.addEventListener("htmx:afterSettle", tick);
  // Boosted navigation swaps the body's content, not the body's attributes, so carry the new
  // page's CSRF token over: signing in or out starts a new session with a new token, and forms
  // pushed live (rendered once for everyone, without a token) rely on this header alone.
  document.addEventListener("htmx:afterRequest", function (evt) {
    if (!evt.detail.boosted || !evt.detail.xhr) return;
    var found = /<body\b[^>]*\shx-headers='([^']*)'/.exec(evt.detail.xhr.responseText || "");
    if (found) { document.body.setAttribute("hx-headers", found[1]); }
  });
  // A boosted link or form expects a whole page, so show the error page (400 CSRF, 403,
  // 404, 413, 500) instead of htmx's default of silently dropping 4xx/5xx responses.
  document.addEventListener("htmx:beforeSwap", function (evt) {
    if (evt.detail.boosted && evt.detail.xhr.status >= 400) {
      evt.detail.shouldSwap = true;
      evt.detail.isError = false;
    }
  });
})();
