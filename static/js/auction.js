// Auction pages: mark the viewer's own rows in bid history pushed live (the shared fragment
// cannot know who is looking) and show photo upload progress. Loaded from the page body, so
// it also arrives with hx-boost navigation; the guard keeps one set of listeners.
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

  function showProgress(event) {
    var form = event.target.closest ? event.target.closest("#listing-form") : null;
    var bar = form && form.querySelector(".upload-progress");
    if (!bar || !event.detail.lengthComputable) return;
    bar.hidden = false;
    bar.value = Math.round((event.detail.loaded / event.detail.total) * 100);
  }

  window.botAuctionPages = { markMine: markMine };
  document.addEventListener("DOMContentLoaded", markMine);
  document.addEventListener("htmx:afterSwap", markMine);
  document.addEventListener("htmx:afterSettle", markMine);
  document.addEventListener("htmx:sseMessage", markMine);
  document.addEventListener("htmx:xhr:progress", showProgress);
  markMine();
})();
