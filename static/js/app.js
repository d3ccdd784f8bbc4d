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
  // The server's clock decides when an auction ends: the page carries the server's time when it
  // was made (#live data-server-now) and every htmx answer its Date header; the countdown runs
  // on Date.now() corrected by the difference, so a device clock minutes off still counts right.
  var offset = 0;
  function readServerClock() {
    var live = document.getElementById("live");
    var sent = live && parseInt(live.dataset.serverNow || "", 10);
    if (sent) { offset = sent - Date.now(); live.removeAttribute("data-server-now"); }
  }
  document.addEventListener("htmx:afterRequest", function (evt) {
    var date = evt.detail.xhr && evt.detail.xhr.getResponseHeader("Date");
    var at = date ? Date.parse(date) : NaN;
    // Whole seconds only: keep the finer offset from the page unless this one is far from it.
    if (!isNaN(at) && Math.abs(at + 500 - Date.now() - offset) > 1500) offset = at + 500 - Date.now();
  });
  function tick() {
    var now = Date.now() + offset;
    document.querySelectorAll("time[data-countdown]").forEach(function (el) {
      var end = Date.parse(el.getAttribute("datetime"));
      if (!isNaN(end)) { el.textContent = formatLeft(end - now, el); }
    });
  }
  readServerClock();
  document.addEventListener("DOMContentLoaded", function () { readServerClock(); tick(); setInterval(tick, 1000); });
  document.addEventListener("htmx:afterSettle", function () { readServerClock(); tick(); });
  window.botAuctionClock = { offset: function () { return offset; } };
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
// Every moment on a page is a <time datetime="…Z" data-local="short|medium"> written by the server
// in the reader's zone; fragments pushed live are written once for every reader, so each page
// writes its times again in its own zone (#live data-zone) and language.
(function () {
  "use strict";
  if (window.botAuctionTimes) return;
  var formats = {};
  function formatter(style) {
    var live = document.getElementById("live");
    var zone = (live && live.dataset.zone) || "UTC";
    var key = style + "|" + zone;
    if (!formats[key]) {
      try {
        formats[key] = new Intl.DateTimeFormat(document.documentElement.lang || undefined,
          { dateStyle: style === "medium" ? "medium" : "short", timeStyle: "short", timeZone: zone });
      } catch (e) { formats[key] = null; }
    }
    return formats[key];
  }
  function format(root) {
    (root || document).querySelectorAll("time[data-local]").forEach(function (el) {
      var at = Date.parse(el.getAttribute("datetime")), f = formatter(el.dataset.local);
      if (!isNaN(at) && f) el.textContent = f.format(new Date(at));
    });
  }
  window.botAuctionTimes = { format: format };
  document.addEventListener("htmx:afterSettle", function (evt) { format(evt.target); });
  document.addEventListener("htmx:sseMessage", function (evt) { format(evt.target); });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", function () { format(); });
  else format();
})();
// The live stream: resume from the last event this page saw (the SSE extension reconnects with
// the sse-connect address, so its since= follows along), and when the server says a channel
// was missed beyond what it keeps (reset), fetch the page again: its state is stale.
(function () {
  "use strict";
  if (window.botAuctionStream) return;
  window.botAuctionStream = true;
  function remember(evt) {
    var id = evt.detail && evt.detail.lastEventId;
    var live = document.getElementById("live");
    var url = live && live.getAttribute("sse-connect");
    if (!id || !url) return;
    var next = /([?&])since=[^&]*/.test(url) ? url.replace(/([?&])since=[^&]*/, "$1since=" + encodeURIComponent(id)) : url + "&since=" + encodeURIComponent(id);
    live.setAttribute("sse-connect", next);
  }
  document.addEventListener("htmx:sseBeforeMessage", remember);
  document.addEventListener("htmx:sseOpen", function (evt) {
    var source = evt.detail && evt.detail.source;
    if (!source || source.__resetHeard) return;
    source.__resetHeard = true;
    source.addEventListener("reset", function () { window.location.reload(); });
  });
})();
// No silent failures: an htmx request answered 4xx/5xx, or not answered, says so where the
// action was (the bid form, the watch button, the listing form, the wallet). A refused CSRF
// token (the session changed in another tab) brings a fresh one: nothing was done, so the
// person is asked to press again, and one press is one request.
(function () {
  "use strict";
  if (window.botAuctionErrors) return;
  window.botAuctionErrors = true;
  function texts() {
    var live = document.getElementById("live");
    return (live && live.dataset) || {};
  }
  function place(elt, text) {
    if (!elt || !document.body.contains(elt)) return;
    var holder = elt.closest("form") || elt.parentNode;
    if (!holder) return;
    holder.querySelectorAll(":scope > .request-error").forEach(function (old) { old.remove(); });
    var line = document.createElement("p");
    line.className = "field-error request-error";
    line.setAttribute("role", "alert");
    line.textContent = text;
    holder.appendChild(line);
  }
  // Decided before htmx would swap: nothing is swapped, and the failure is not left to the
  // console (htmx logs a response it counts as an error there).
  document.addEventListener("htmx:beforeSwap", function (evt) {
    var xhr = evt.detail.xhr;
    if (evt.detail.boosted || !xhr || xhr.status < 400) return;
    evt.detail.shouldSwap = false;
    evt.detail.isError = false;
    var fresh = xhr.getResponseHeader("X-CSRF-Token");
    if (fresh) {
      var headers = {};
      try { headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}"); } catch (e) { headers = {}; }
      headers["X-CSRFToken"] = fresh;
      document.body.setAttribute("hx-headers", JSON.stringify(headers));
      document.querySelectorAll("input[name=csrf_token]").forEach(function (field) { field.value = fresh; });
      place(origin(evt), texts().msgSession || "");
      return;
    }
    place(origin(evt), (texts().msgFailed || "").replace("%s", xhr.status));
  });
  // The element that made the request (the form, the button), not the one its answer would replace.
  function origin(evt) {
    return (evt.detail.requestConfig && evt.detail.requestConfig.elt) || evt.detail.elt;
  }
  function unanswered(evt) {
    if (evt.detail.boosted) return;
    place(origin(evt), texts().msgOffline || "");
  }
  document.addEventListener("htmx:sendError", unanswered);
  document.addEventListener("htmx:timeout", unanswered);
  // A new attempt clears the last one's error.
  document.addEventListener("htmx:beforeRequest", function (evt) {
    var holder = evt.detail.elt && (evt.detail.elt.closest("form") || evt.detail.elt.parentNode);
    if (holder) holder.querySelectorAll(":scope > .request-error").forEach(function (old) { old.remove(); });
  });
})();
