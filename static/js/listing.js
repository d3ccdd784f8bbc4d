// The home page's "new auctions" notice: the stream appends a marker per newly listed live
// auction; count those this grid does not show yet (and that fit its category) and offer them.
// Boosted navigation may run this file again: listen once.
(function () {
  "use strict";
  if (window.listingNoticeReady) return;
  window.listingNoticeReady = true;
  document.addEventListener("htmx:sseMessage", function (evt) {
    var sink = evt.target;
    if (!sink.hasAttribute || !sink.hasAttribute("data-new-listings")) return;
    var listing = sink.closest(".listing");
    if (!listing) return;
    var wanted = listing.dataset.category || "";
    var fresh = {};
    sink.querySelectorAll("[data-auction]").forEach(function (marker) {
      var id = marker.dataset.auction;
      if (document.getElementById("auction-card-" + id)) return;
      if (wanted && marker.dataset.category !== wanted) return;
      fresh[id] = true;
    });
    var count = Object.keys(fresh).length;
    var notice = listing.querySelector(".new-listings");
    notice.querySelector("[data-new-count]").textContent = String(count);
    notice.hidden = count === 0;
  });
})();
