// The auction page's photo gallery: previous/next buttons over the photo, thumbnails that
// scroll the strip in place, the thumbnail of the photo in view marked, and the zoom view (a
// <dialog> of the large renditions: ←/→ move, Esc closes, focus goes back to the photo). Without
// this file the thumbnails (links to #photo-N) and each photo's "2 / 3" count still reach every
// photo, and a photo's link opens its large rendition.
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

  function zoomSlides(dialog) { return dialog.querySelectorAll(".zoom-slide"); }

  function zoomIndex(dialog) {
    var strip = dialog.querySelector("[data-zoom-strip]");
    return strip.clientWidth ? Math.round(strip.scrollLeft / strip.clientWidth) : 0;
  }

  function zoomTo(dialog, index, instant) {
    var strip = dialog.querySelector("[data-zoom-strip]");
    var last = zoomSlides(dialog).length - 1;
    index = Math.max(0, Math.min(last, index));
    var calm = instant || window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    strip.scrollTo({ left: index * strip.clientWidth, behavior: calm ? "auto" : "smooth" });
    markZoom(dialog, index);
  }

  function markZoom(dialog, index) {
    dialog.dataset.zoomAt = String(index);  // read on close, when the hidden strip has no width to measure
    var prev = dialog.querySelector(".zoom-prev"), next = dialog.querySelector(".zoom-next");
    if (prev) prev.disabled = index === 0;
    if (next) next.disabled = index === zoomSlides(dialog).length - 1;
  }

  function setUpZoom(gallery) {
    var dialog = gallery.querySelector(".photo-zoom");
    if (!dialog || typeof dialog.showModal !== "function") return;  // no <dialog>: the links open the large photos
    var opener = null;
    gallery.querySelectorAll("[data-zoom]").forEach(function (link) {
      link.addEventListener("click", function (event) {
        event.preventDefault();
        opener = link;
        dialog.showModal();
        zoomTo(dialog, parseInt(link.dataset.zoom, 10) || 0, true);
      });
    });
    dialog.querySelectorAll("[data-zoom-step]").forEach(function (b) {
      b.addEventListener("click", function () { zoomTo(dialog, zoomIndex(dialog) + parseInt(b.dataset.zoomStep, 10)); });
    });
    dialog.addEventListener("keydown", function (event) {
      if (event.key === "ArrowRight" || event.key === "ArrowLeft") {
        event.preventDefault();
        zoomTo(dialog, zoomIndex(dialog) + (event.key === "ArrowRight" ? 1 : -1));
      }
    });
    var strip = dialog.querySelector("[data-zoom-strip]"), queued = false;
    strip.addEventListener("scroll", function () {
      if (queued) return;
      queued = true;
      window.requestAnimationFrame(function () { queued = false; markZoom(dialog, zoomIndex(dialog)); });
    }, { passive: true });
    // A click on the dark backdrop (the dialog itself, not a photo or a button) closes it too.
    dialog.addEventListener("click", function (event) { if (event.target === dialog) dialog.close(); });
    dialog.addEventListener("close", function () {
      // Back on the page at the photo last seen, with the focus where the person left it.
      var index = parseInt(dialog.dataset.zoomAt || "0", 10), slides = slidesOf(gallery);
      if (slides.length > 1 && slides[index]) show(gallery, index);
      var target = (slides[index] && slides[index].querySelector("[data-zoom]")) || opener;
      if (target) target.focus({ preventScroll: true });
    });
  }

  function setUp(gallery) {
    if (gallery.dataset.galleryReady) return;
    gallery.dataset.galleryReady = "yes";
    setUpZoom(gallery);
    if (slidesOf(gallery).length < 2) return;
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
