// Small progressive enhancements; every page works without this file.
(function () {
  "use strict";
  // The words come translated from the page (templates/_partials/countdown.html): data-format
  // is the sentence with "%s" for the time left, data-days the day count with "%s" for the number.
  function formatLeft(ms, el) {
    if (ms <= 0) return el.dataset.ended || "";
    var s = Math.floor(ms / 1000), d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600),
        m = Math.floor((s % 3600) / 60), sec = s % 60;
    var pad = function (n) { return String(n).padStart(2, "0"); };
    var days = d ? (el.dataset.days || "%sd").replace("%s", d) + " " : "";
    var left = days + pad(h) + ":" + pad(m) + ":" + pad(sec);
    return (el.dataset.format || "%s").replace("%s", left);
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll("time[data-countdown]").forEach(function (el) {
      var end = Date.parse(el.getAttribute("datetime"));
      if (!isNaN(end)) { el.textContent = formatLeft(end - now, el); }
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
// Times are shown and typed in the zone the server keeps for this reader (UTC until told).
// Tell it the browser's own zone when they differ; the page's "Times are in ..." notes follow
// at once, the times already printed on it from the next page on. A boosted navigation (signing
// in, say) does not replace the body's attributes, so its page's stored zone is read here.
(function () {
  "use strict";
  if (window.timezoneReporter) return;
  var sent = {};
  function browserZone() {
    try { return Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { return ""; }
  }
  function report(stored) {
    var body = document.body, zone = browserZone(), url = body.dataset.timezoneUrl;
    if (!zone || !url || zone === stored || sent[stored + ">" + zone]) return;
    sent[stored + ">" + zone] = true;
    var headers = {};
    try { headers = JSON.parse(body.getAttribute("hx-headers") || "{}"); } catch (e) { headers = {}; }
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": headers["X-CSRFToken"] || "", "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ timezone: zone }),
    }).then(function (response) {
      if (!response.ok) return;
      sent = {};  // stored now; a later page may still hold another (the account's, after signing in)
      body.dataset.timezone = zone;
      document.querySelectorAll("[data-timezone-name]").forEach(function (el) { el.textContent = zone; });
    }).catch(function () {});
  }
  window.timezoneReporter = report;
  document.addEventListener("htmx:afterRequest", function (evt) {
    if (!evt.detail.boosted || !evt.detail.xhr) return;
    var found = /<body\b[^>]*\sdata-timezone="([^"]*)"/.exec(evt.detail.xhr.responseText || "");
    if (found) report(found[1]);
  });
  function first() { report(document.body.dataset.timezone || ""); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", first);
  else first();
})();
// The listing form: hide the terms the chosen auction type ignores (a Dutch auction has no
// reserve, increment or anti-sniping; sealed bids no increment; only English has buy it now).
// Hidden inputs are disabled too, so neither inline validation nor the submit sends them.
(function () {
  "use strict";
  if (window.listingKindsReady) return;
  window.listingKindsReady = true;
  function showTermsOf(form) {
    var select = form && form.querySelector("select[name=kind]");
    if (!select) return;
    form.querySelectorAll("[data-kinds]").forEach(function (group) {
      var applies = group.dataset.kinds.split(" ").indexOf(select.value) !== -1;
      group.hidden = !applies;
      group.querySelectorAll("input, select, textarea").forEach(function (input) { input.disabled = !applies; });
    });
  }
  function showAll() { document.querySelectorAll("#listing-form").forEach(showTermsOf); }
  document.addEventListener("change", function (evt) {
    if (evt.target.name === "kind" && evt.target.form && evt.target.form.id === "listing-form") showTermsOf(evt.target.form);
  }, true);  // before htmx's own listener reads the form for inline validation
  document.addEventListener("htmx:afterSettle", showAll);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", showAll);
  else showAll();
})();
