// Bot-Auction's service worker (served at /sw.js, scope "/"): shows a web push notification and
// opens (or focuses) its page when it is clicked. Payload: {"title", "body", "url", "tag"};
// the same tag replaces an earlier notification instead of stacking another.
"use strict";

self.addEventListener("push", function (event) {
  var data = {};
  try { data = event.data ? event.data.json() : {}; } catch (e) { data = { body: event.data ? event.data.text() : "" }; }
  var options = {
    body: data.body || "",
    icon: "/static/img/icon-192.png",  // PNG: Android does not draw SVG notification icons
    data: { url: data.url || "/notifications" }
  };
  if (data.tag) { options.tag = data.tag; options.renotify = true; }
  event.waitUntil(self.registration.showNotification(data.title || "Bot-Auction", options));
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  var target = new URL(event.notification.data && event.notification.data.url || "/", self.location.origin).href;
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (windows) {
      for (var i = 0; i < windows.length; i++) {
        if (windows[i].url === target && "focus" in windows[i]) return windows[i].focus();
      }
      return self.clients.openWindow(target);
    })
  );
});
