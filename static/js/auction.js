// Marks the viewer's own rows in bid history pushed live (the shared fragment cannot know who is looking).
(function () {
  "use strict";
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
        if (name) { name.appendChild(document.createTextNode(" ")); name.appendChild(badge); }
      });
    });
  }
  document.addEventListener("DOMContentLoaded", markMine);
  document.addEventListener("htmx:afterSettle", markMine);
  document.addEventListener("htmx:sseMessage", markMine);
})();
// Upload progress for the listing form's photos (htmx reports XHR upload progress).
(function () {
  "use strict";
  document.addEventListener("htmx:xhr:progress", function (event) {
    var form = event.target.closest ? event.target.closest("#listing-form") : null;
    var bar = form && form.querySelector(".upload-progress");
    if (!bar || !event.detail.lengthComputable) return;
    bar.hidden = false;
    bar.value = Math.round((event.detail.loaded / event.detail.total) * 100);
  });
})();
