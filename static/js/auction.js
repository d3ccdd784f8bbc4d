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
  // every reader); keep this page's viewer's and drop the others. While someone leads an
  // English auction the bidder's variant comes twice, marked with the leader's tag: "yes" is
  // kept only on the page whose viewer tag that is. The admin's cancel form is kept on an
  // admin's page unless the kept variant already has one.
  function keepVariants(root, page) {
    var tag = page.dataset.viewerTag || "";
    root.querySelectorAll("[data-for-viewer]").forEach(function (block) {
      var keep = block.dataset.forViewer === page.dataset.viewer;
      if (keep && block.dataset.leader) {
        keep = (block.dataset.leading === "yes") === (tag !== "" && block.dataset.leader === tag);
      }
      if (keep) {
        ["data-for-viewer", "data-leader", "data-leading"].forEach(function (name) { block.removeAttribute(name); });
        block.hidden = false;
      } else {
        block.remove();
      }
    });
    root.querySelectorAll("[data-for-admin]").forEach(function (block) {
      var other = Array.prototype.some.call(root.querySelectorAll(".cancel-form"), function (form) { return !block.contains(form); });
      if (page.dataset.admin && !other) {
        block.removeAttribute("data-for-admin");
        block.hidden = false;
      } else {
        block.remove();
      }
    });
  }

  // What only this page knows goes into the pushed bid form: what its reader typed, their
  // private notes (their maximum, their sealed bid: never in a shared render), and the outcome
  // of their own last bid or error while it still holds (they lead, or not, as before).
  function carryOver(old, fresh) {
    var oldBox = old.querySelector("#bid-form-box");
    var newBox = fresh.querySelector("#bid-form-box");
    if (!oldBox || !newBox) return;
    ["bid-amount", "bid-max"].forEach(function (id) {
      var was = oldBox.querySelector("#" + id);
      var now = newBox.querySelector("#" + id);
      if (was && now && was.value) now.setAttribute("value", was.value);
    });
    var details = oldBox.querySelector("details.proxy");
    var freshDetails = newBox.querySelector("details.proxy");
    if (details && details.open && freshDetails) freshDetails.setAttribute("open", "");
    newBox.querySelectorAll("[data-note]").forEach(function (note) {
      var own = oldBox.querySelector('[data-note="' + note.dataset.note + '"]');
      if (own && !own.hidden) {
        note.replaceWith(own.cloneNode(true));
        // The least this viewer may offer (their own maximum or sealed bid + 1) goes with its hint.
        var ownInput = oldBox.querySelector("#bid-amount");
        var input = newBox.querySelector("#bid-amount");
        if (own.id === "bid-help" && ownInput && input) input.setAttribute("placeholder", ownInput.getAttribute("placeholder") || "");
      } else if (note.hidden) {
        note.remove();
      }
    });
    // Every page gets the "outbid" line hidden; only the one whose viewer led until now shows it.
    newBox.querySelectorAll("[data-outbid]").forEach(function (line) {
      if (oldBox.dataset.leading === "yes" && newBox.dataset.leading === "no") {
        line.removeAttribute("data-outbid");
        line.hidden = false;
      } else {
        line.remove();
      }
    });
    var form = newBox.querySelector("form");
    if (!form || oldBox.dataset.leading !== newBox.dataset.leading) return;
    oldBox.querySelectorAll("form #bid-error, form .form-message").forEach(function (line) {
      form.appendChild(line.cloneNode(true));
    });
    var input = newBox.querySelector("#bid-amount");
    if (input && oldBox.querySelector("form #bid-error")) {
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", "bid-help bid-error");
    }
  }

  // Runs on a pushed controls block before htmx swaps it in, while the page's own block is still
  // there to read from; the ids are unique again afterwards, so htmx gives focus back by id.
  function chooseControls(html, target) {
    var page = target.closest("[data-viewer]");
    if (!page) return html;
    var template = document.createElement("template");
    template.innerHTML = html;
    keepVariants(template.content, page);
    carryOver(target, template.content);
    var holder = document.createElement("div");
    holder.appendChild(template.content);
    return holder.innerHTML;
  }

  var extensionDefined = false;
  function defineExtension() {
    if (extensionDefined || !window.htmx) return;
    extensionDefined = true;
    window.htmx.defineExtension("viewer-controls", {
      transformResponse: function (text, xhr, elt) {
        // Only the live swap of the block itself; the bid form's own responses pass through.
        return elt && elt.hasAttribute && elt.hasAttribute("sse-swap") ? chooseControls(text, elt) : text;
      },
    });
  }

  // A push that lands while this page's own bid (or buy, or cancel) is on its way would detach
  // the element its response is aimed at, and that response would be lost. Hold the newest
  // push until the request is done, then swap it over the response's block (which it reads from).
  var pending = null;
  function holdWhileBusy(event) {
    var controls = event.target;
    if (!controls.hasAttribute || controls.getAttribute("hx-ext") !== "viewer-controls") return;
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
    window.htmx.swap(held.controls, chooseControls(held.html, held.controls), { swapStyle: "innerHTML", swapDelay: 0, settleDelay: 20 });
  }

  // Fallback for a block swapped in without the extension (nothing left to do otherwise).
  function keepViewerControls() {
    document.querySelectorAll("[data-viewer]").forEach(function (page) { keepVariants(page, page); });
  }

  function showProgress(event) {
    // The submit only: inline validation posts from the fields, without the photos.
    var form = event.target.id === "listing-form" ? event.target : null;
    var bar = form && form.querySelector(".upload-progress");
    if (!bar || !event.detail.lengthComputable) return;
    bar.hidden = false;
    bar.value = Math.round((event.detail.loaded / event.detail.total) * 100);
  }

  window.botAuctionPages = { markMine: markMine, keepViewerControls: keepViewerControls };
  // htmx is a deferred script: on a first load it runs after this one, before DOMContentLoaded.
  defineExtension();
  document.addEventListener("DOMContentLoaded", defineExtension);
  document.addEventListener("DOMContentLoaded", markMine);
  document.addEventListener("htmx:afterSwap", markMine);
  document.addEventListener("htmx:afterSettle", markMine);
  document.addEventListener("htmx:sseBeforeMessage", holdWhileBusy);
  document.addEventListener("htmx:sseMessage", function () { keepViewerControls(); markMine(); });
  document.addEventListener("htmx:xhr:progress", showProgress);
  markMine();
})();
