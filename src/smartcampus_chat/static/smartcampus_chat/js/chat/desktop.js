/*
 * Desktop notifications (the Notification API) while a chat tab is open but hidden. The
 * permission is asked only when the person presses "Turn on desktop notifications" in the
 * notifications panel, never on page load; the panel then says whether they are on or
 * blocked. A `notification` frame with `browser: true` (the person's preference, outside
 * their quiet hours) shows one when the tab is hidden, titled with the sender and the room;
 * a click brings the tab forward and opens the message.
 */

import { format, t } from "./i18n.js";
import { $ } from "./page.js";

function supported() {
  return typeof window.Notification === "function";
}

/** Bind the panel's "Turn on desktop notifications" button and its state line. */
export function init(panel) {
  const button = $(".scc-desktop-on", panel);
  const state = $(".scc-desktop-state", panel);
  function refresh() {
    const permission = supported() ? window.Notification.permission : "unsupported";
    button.hidden = permission !== "default";
    const text = {
      granted: t("desktopOn"),
      denied: t("desktopDenied"),
      unsupported: t("desktopUnsupported"),
    }[permission];
    state.textContent = text || "";
    state.hidden = !text;
  }
  button.addEventListener("click", function () {
    const asked = window.Notification.requestPermission();
    if (asked && asked.then) {
      asked.then(function () {
        refresh();
        if (button.hidden) {
          // The button the focus was on is gone: the answer gets it, and is read.
          state.setAttribute("tabindex", "-1");
          state.focus();
        }
      });
    }
  });
  refresh();
}

/** Show `notification` (a NotificationData) on the desktop when the tab is hidden and the
    person allowed it; `open` is called with it on a click. */
export function show(notification, open) {
  if (!supported() || window.Notification.permission !== "granted" || !document.hidden) {
    return;
  }
  const titles = {
    mention: t("notifyTitle_mention"),
    reply: t("notifyTitle_reply"),
    private: t("notifyTitle_private"),
    message: t("notifyTitle_message"),
  };
  const title = format(titles[notification.kind] || titles.message, {
    name: notification.actor ? notification.actor.name : t("someone"),
    room: notification.room_name,
  });
  const shown = new window.Notification(title, {
    body: notification.excerpt,
    tag: "scc-notification-" + notification.id,
  });
  shown.onclick = function () {
    window.focus();
    shown.close();
    open(notification);
  };
}
