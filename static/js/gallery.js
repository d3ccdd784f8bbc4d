// The auction page's photo gallery: previous/next buttons over the photo, thumbnails that
// scroll the strip in place, and the thumbnail of the photo in view marked. Without this file
// the thumbnails (links to #photo-N) and each photo's "2 / 3" count still reach every photo.
// Boosted navigation may run this file again: listen once, set up new galleries each time.
(function () {
  "use strict";
  if (window.botAuctionGallery) { window.botAuctionGallery.setUpAll(); return; }

  function slidesOf(gallery) { return gallery.querySelectorAll(".gallery-slide"); }

  function currentIndex(gallery) {
    var strip = gallery.querySelector("[data-gallery]");
    var best = 0, distance = Infinity;
    slidesOf(gallery).forEach(function (slide, index) {
      var d = Math.abs(slide.offsetLeft - strip.scrollLeft);
      if (d < distance) { distance = d; best = index; }
    });
    return best;
  }

  function show(gallery, index) {
    var strip = gallery.querySelector("[data-gallery]");
    var slides = slidesOf(gallery);
    var slide = slides[Math.max(0, Math.min(slides.length - 1, index))];
    var calm = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    strip.scrollTo({ left: slide.offsetLeft, behavior: calm ? "auto" : "smooth" });
  }

  function mark(gallery) {
    var index = currentIndex(gallery), last = slidesOf(gallery).length - 1;
    gallery.querySelectorAll(".gallery-thumbs a").forEach(function (link, i) {
      if (i === index) { link.setAttribute("aria-current", "true"); } else { link.removeAttribute("aria-current"); }
    });
    var prev = gallery.querySelector(".gallery-prev"), next = gallery.querySelector(".gallery-next");
    if (prev) prev.disabled = index === 0;
    if (next) next.disabled = index === last;
  }

  function button(gallery, kind, label, symbol) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "gallery-nav gallery-" + kind;
    b.setAttribute("aria-label", label);
    b.textContent = symbol;
    b.addEventListener("click", function () { show(gallery, currentIndex(gallery) + (kind === "next" ? 1 : -1)); });
    return b;
  }

  function setUp(gallery) {
    if (gallery.dataset.galleryReady || slidesOf(gallery).length < 2) return;
    gallery.dataset.galleryReady = "yes";
    var strip = gallery.querySelector("[data-gallery]");
    var frame = strip.parentElement;
    frame.append(button(gallery, "prev", gallery.dataset.prevLabel || "Previous photo", "‹"),
                 button(gallery, "next", gallery.dataset.nextLabel || "Next photo", "›"));
    gallery.querySelectorAll(".gallery-thumbs a").forEach(function (link, index) {
      link.addEventListener("click", function (event) {
        // Scroll the strip only: following the anchor would also jump the page.
        event.preventDefault();
        show(gallery, index);
      });
    });
    var queued = false;
    strip.addEventListener("scroll", function () {
      if (queued) return;
      queued = true;
      window.requestAnimationFrame(function () { queued = false; mark(gallery); });
    }, { passive: true });
    mark(gallery);
  }

  function setUpAll() { document.querySelectorAll(".auction-gallery").forEach(setUp); }

  window.botAuctionGallery = { setUpAll: setUpAll };
  document.addEventListener("DOMContentLoaded", setUpAll);
  document.addEventListener("htmx:afterSettle", setUpAll);
  setUpAll();
})();
