// Web push on /settings (#push-settings): register the service worker, subscribe this browser
// with the server's VAPID key and post the subscription (with the page's CSRF token); or
// unsubscribe it. Every state the person can be in has its own translated line in the page.
// Boosted navigation may run this file again: set up once, look for the section on each load.
(function () {
  "use strict";
  if (window.pushSettingsReady) return;
  window.pushSettingsReady = true;

  function keyBytes(base64url) {
    var padded = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(padded), bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || ""; }
    catch (e) { return ""; }
  }

  // The server's own (translated) words, else the page's.
  function reason(section, error) {
    return (error && error.fromServer && error.message) || section.querySelector("[data-push-error]").dataset.failed;
  }

  function show(section, state, error) {
    section.querySelectorAll("[data-push-state]").forEach(function (el) { el.hidden = el.dataset.pushState !== state; });
    section.querySelector("[data-push-action=on]").hidden = state !== "off";
    section.querySelector("[data-push-action=off]").hidden = state !== "on";
    var alert = section.querySelector("[data-push-error]");
    alert.textContent = error || "";
    alert.hidden = !error;
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (answer) {
        if (!response.ok) { var error = new Error(answer.error || ""); error.fromServer = true; throw error; }
        return answer;
      });
    });
  }

  function registration(section) {
    return navigator.serviceWorker.register(section.dataset.pushWorker, { scope: "/" })
      .then(function () { return navigator.serviceWorker.ready; });
  }

  function refresh(section) {
    if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
      show(section, "unsupported");
      return;
    }
    if (Notification.permission === "denied") { show(section, "denied"); return; }
    registration(section)
      .then(function (reg) { return reg.pushManager.getSubscription(); })
      .then(function (sub) {
        if (!sub) { show(section, "off"); return; }
        // Tell the server again: it may have dropped it (a 410) or it belongs to another account.
        return post(section.dataset.pushSubscribe, sub.toJSON()).then(function () { show(section, "on"); });
      })
      .catch(function (error) { show(section, "off", reason(section, error)); });
  }

  function turnOn(section) {
    Notification.requestPermission().then(function (permission) {
      if (permission !== "granted") { show(section, permission === "denied" ? "denied" : "off"); return; }
      return registration(section)
        .then(function (reg) {
          return reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(section.dataset.pushKey) });
        })
        .then(function (sub) {
          return post(section.dataset.pushSubscribe, sub.toJSON()).catch(function (error) {
            sub.unsubscribe();
            throw error;
          });
        })
        .then(function () { window.location.reload(); });
    }).catch(function (error) { show(section, "off", reason(section, error)); });
  }

  function turnOff(section) {
    registration(section)
      .then(function (reg) { return reg.pushManager.getSubscription(); })
      .then(function (sub) {
        if (!sub) return null;
        return post(section.dataset.pushUnsubscribe, { endpoint: sub.endpoint }).then(function () { return sub.unsubscribe(); });
      })
      .then(function () { window.location.reload(); })
      .catch(function (error) { show(section, "on", reason(section, error)); });
  }

  function setUp() {
    var section = document.getElementById("push-settings");
    if (!section || !section.dataset.pushKey || section.dataset.pushReady) return;
    section.dataset.pushReady = "1";
    section.querySelector("[data-push-action=on]").addEventListener("click", function () { turnOn(section); });
    section.querySelector("[data-push-action=off]").addEventListener("click", function () { turnOff(section); });
    refresh(section);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setUp);
  else setUp();
  document.addEventListener("htmx:load", setUp);
})();
