// Auction pages: mark the viewer's own rows in bid history pushed live (the shared rows cannot
// know who is looking), keep the history at its limit, draw a pushed bid's point into the price
// chart, and show photo upload progress. Personal state (you lead, you were outbid, you won)
// arrives rendered for this viewer on their own channel; nothing here picks variants.
// Loaded from the page body, so it also arrives with hx-boost navigation; the guard keeps one set of listeners.
(function () {
  "use strict";
  if (window.botAuctionPages) { window.botAuctionPages.markMine(); return; }

  function markMine() {
    document.querySelectorAll("[data-viewer-tag]").forEach(function (page) {
      var tag = page.dataset.viewerTag;
      if (!tag) return;
      page.querySelectorAll('.bid-row[data-bidder="' + tag + '"]:not(.mine)').forEach(function (row) {
        row.classList.add("mine");
        var badge = document.createElement("span");
        badge.className = "badge you";
        badge.textContent = page.dataset.you || "you";
        var name = row.querySelector(".bidder");
        if (name) { name.after(" ", badge); }
      });
    });
  }

  // New rows arrive at the top: a raised sealed bid replaces its bidder's older row, and the
  // list keeps its limit (the page shows the newest rows only).
  function trimHistory(list) {
    var seen = {};
    Array.prototype.slice.call(list.children).forEach(function (row) {
      if (row.hasAttribute("data-sealed")) {
        if (seen[row.dataset.bidder]) { row.remove(); return; }
        seen[row.dataset.bidder] = true;
      }
    });
    var limit = parseInt(list.dataset.limit || "20", 10);
    while (list.children.length > limit) list.lastElementChild.remove();
    var none = list.nextElementSibling;
    if (none && none.classList.contains("no-bids")) none.hidden = list.children.length > 0;
  }

  function stars(n) {
    var lang = document.documentElement.lang || undefined;
    try { return new Intl.NumberFormat(lang).format(n) + " ⭐"; } catch (e) { return n + " ⭐"; }
  }

  // The chart is a step line over the price series; a pushed point extends it to that moment.
  function drawChart(figure, until) {
    var series = JSON.parse(figure.dataset.series || "[]");
    if (!series.length) return;
    var end = Math.max(until, series[series.length - 1][0]);
    var t0 = series[0][0], low = Infinity, high = -Infinity;
    series.forEach(function (p) { low = Math.min(low, p[1]); high = Math.max(high, p[1]); });
    var spanT = Math.max(end - t0, 1), spanP = Math.max(high - low, 1), pad = 4, w = 320, h = 96;
    var xy = function (t, p) {
      return [Math.round((pad + (t - t0) / spanT * (w - 2 * pad)) * 10) / 10, Math.round((h - pad - (p - low) / spanP * (h - 2 * pad)) * 10) / 10];
    };
    var points = [], last = null;
    series.concat([[end, series[series.length - 1][1]]]).forEach(function (p, i) {
      var at = xy(p[0], p[1]);
      if (i) points.push(at[0] + "," + last[1]);
      points.push(at[0] + "," + at[1]);
      last = at;
    });
    var line = figure.querySelector("polyline");
    if (line) line.setAttribute("points", points.join(" "));
    var highLabel = figure.querySelector("[data-chart-high]"), lowLabel = figure.querySelector("[data-chart-low]");
    if (highLabel) highLabel.textContent = stars(high);
    if (lowLabel) { lowLabel.textContent = stars(low); lowLabel.hidden = high === low; }
    var endTime = figure.querySelector("[data-chart-end] time");
    if (endTime) {
      endTime.setAttribute("datetime", new Date(end * 1000).toISOString().replace(/\.\d{3}Z$/, "Z"));
      if (window.botAuctionTimes) window.botAuctionTimes.format(endTime.parentNode);
    }
  }

  function addChartPoint(feed) {
    var panel = feed.closest(".chart-panel");
    var figure = panel && panel.querySelector("[data-chart]");
    var point = feed.querySelector("data");
    if (!figure || !point) return;
    var series = JSON.parse(figure.dataset.series || "[]");
    var at = parseInt(point.dataset.at, 10), price = parseInt(point.value, 10);
    if (series.length && series[series.length - 1][0] === at) series[series.length - 1][1] = price;
    else series.push([at, price]);
    figure.dataset.series = JSON.stringify(series);
    drawChart(figure, at);
    panel.hidden = false;
    feed.textContent = "";
  }

  function afterSwap(event) {
    var target = event.target;
    if (target.classList && target.classList.contains("bid-history")) trimHistory(target);
    if (target.hasAttribute && target.hasAttribute("data-chart-feed")) addChartPoint(target);
    markMine();
  }

  // A personal push that lands while this page's own bid (or buy, or cancel) is on its way would
  // detach the element its response is aimed at, and that response would be lost. Hold the
  // newest push until the request is done, then swap it in.
  var pending = null;
  function holdWhileBusy(event) {
    var controls = event.target;
    if (!controls.id || !/^auction-\d+-controls$/.test(controls.id)) return;
    if (!controls.querySelector(".htmx-request")) return;
    event.preventDefault();
    var waiting = pending !== null;
    pending = { controls: controls, html: event.detail.data };
    if (!waiting) setTimeout(swapWhenIdle, 50);
  }

  function swapWhenIdle() {
    if (!pending) return;
    if (pending.controls.querySelector(".htmx-request")) { setTimeout(swapWhenIdle, 50); return; }
    var held = pending;
    pending = null;
    if (!document.body.contains(held.controls)) return;
    window.htmx.swap(held.controls, held.html, { swapStyle: "innerHTML", swapDelay: 0, settleDelay: 20 });
  }

  function showProgress(event) {
    // The submit only: inline validation posts from the fields, without the photos.
    var form = event.target.id === "listing-form" ? event.target : null;
    var bar = form && form.querySelector(".upload-progress");
    if (!bar || !event.detail.lengthComputable) return;
    bar.hidden = false;
    bar.value = Math.round((event.detail.loaded / event.detail.total) * 100);
  }

  window.botAuctionPages = { markMine: markMine };
  document.addEventListener("DOMContentLoaded", markMine);
  document.addEventListener("htmx:afterSwap", afterSwap);
  document.addEventListener("htmx:sseMessage", afterSwap);
  document.addEventListener("htmx:afterSettle", markMine);
  document.addEventListener("htmx:sseBeforeMessage", holdWhileBusy);
  document.addEventListener("htmx:xhr:progress", showProgress);
  markMine();
})();
