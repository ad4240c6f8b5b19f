/*
 * smartcampus-chat service worker: shows Web Push notifications (docs/notifications.md,
 * "Web Push"). Served at the chat's URL prefix (<prefix>service-worker.js), so its scope is
 * the chat's pages. It caches nothing and answers no fetch: the pages load as they would
 * without it.
 *
 * A push message is the JSON {title, body, url, tag, notification_id} the server encrypted
 * for this browser. Clicking the notification focuses a chat tab already at that page (and
 * moves it to the message) or opens one.
 */

"use strict";

self.addEventListener("install", function () {
  self.skipWaiting();
});

self.addEventListener("activate", function (event) {
  event.waitUntil(self.clients.claim());
});

/* `url` if it is a page of this chat (same origin, inside the scope), else the chat's
   start page: a notification never opens another site. */
function chatUrl(url) {
  const scope = new URL(self.registration.scope);
  try {
    const target = new URL(String(url), scope);
    if (target.origin === scope.origin && target.pathname.startsWith(scope.pathname)) {
      return target.href;
    }
  } catch (err) {
    // Not a URL: the start page.
  }
  return scope.href;
}

function text(value) {
  return typeof value === "string" ? value : "";
}

self.addEventListener("push", function (event) {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (err) {
    data = {};
  }
  // A push must show a notification (userVisibleOnly): one without a title shows the site.
  const title = text(data.title) || new URL(self.registration.scope).host;
  const tag = text(data.tag);
  const options = {
    body: text(data.body),
    data: { url: chatUrl(data.url) },
  };
  if (tag) {
    options.tag = tag;
    // A newer notification of the same room replaces the older one and still alerts.
    options.renotify = true;
  }
  event.waitUntil(self.registration.showNotification(title, options));
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  const url = chatUrl(event.notification.data && event.notification.data.url);
  const target = new URL(url);
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (tabs) {
      for (const tab of tabs) {
        const at = new URL(tab.url);
        if (at.origin === target.origin && at.pathname === target.pathname) {
          const focused = tab.focus();
          if (at.href === target.href || !("navigate" in tab)) {
            return focused;
          }
          return focused.then(function (client) {
            return (client || tab).navigate(target.href);
          });
        }
      }
      return self.clients.openWindow(target.href);
    })
  );
});
