// Auction pages: mark the viewer's own rows in bid history pushed live (the shared fragment
// cannot know who is looking) and show photo upload progress. Loaded from the page body, so
// it also arrives with hx-boost navigation; the guard keeps one set of listeners.
(function () {
  "use strict";
  if (window.botAuctionPages) { window.botAuctionPages.markMine(); window.botAuctionPages.keepViewerControls(); return; }

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

  // A pushed controls block holds every kind of viewer's variant, hidden (one render serves
  // every reader); show this page's viewer's and drop the others. The kept block stays in
  // place: htmx wires up the swapped-in forms when it settles, starting from that block.
  function keepViewerControls() {
    document.querySelectorAll("[data-viewer]").forEach(function (page) {
      page.querySelectorAll("[data-for-viewer]").forEach(function (block) {
        if (block.dataset.forViewer === page.dataset.viewer) {
          block.removeAttribute("data-for-viewer");
          block.hidden = false;
        } else {
          block.remove();
        }
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

  window.botAuctionPages = { markMine: markMine, keepViewerControls: keepViewerControls };
  document.addEventListener("DOMContentLoaded", markMine);
  document.addEventListener("htmx:afterSwap", markMine);
  document.addEventListener("htmx:afterSettle", markMine);
  document.addEventListener("htmx:sseMessage", function () { keepViewerControls(); markMine(); });
  document.addEventListener("htmx:xhr:progress", showProgress);
  markMine();
})();
