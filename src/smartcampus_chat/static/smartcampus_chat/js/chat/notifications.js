/*
 * The notification centre (docs/notifications.md, "In the browser"): the sidebar's bell
 * with the unread count (its name says it, "Notifications, 3 unread", and a status region
 * announces a change), and its panel: the newest notifications first (the REST list,
 * fetched each time it opens; "Load more" follows the list's `next`), each a link to the
 * message in context that marks it read, "Mark all as read". Live: the `notification` and
 * `notifications.read` frames, on every socket of the person (so each is applied once, by
 * id). Without JavaScript the bell is a link to the notifications page.
 */

import { on } from "./bus.js";
import * as desktop from "./desktop.js";
import { plural, t } from "./i18n.js";
import { item } from "./notifyitem.js";
import { $, $$, config } from "./page.js";

const settings = config.notifications || null;
const wrap = $(".scc-bell-wrap");
const bell = wrap && $(".scc-bell-button", wrap);
const bellLink = wrap && $(".scc-bell-link", wrap);
const status = wrap && $(".scc-bell-status", wrap);
const panel = $("#scc-notifications");
const list = panel && $(".scc-notify-list", panel);

let unread = bell ? Number($(".scc-bell-count", bell).textContent) || 0 : 0;
let next = null; // the list's next page (REST `next`)
let fetching = null; // the URL being fetched
let connectedOnce = false;
const announced = {}; // notification id -> true once shown as a desktop notification

function csrfToken() {
  const input = wrap && $('input[name="csrfmiddlewaretoken"]', wrap);
  return input ? input.value : "";
}

function setUnread(count, say) {
  unread = Math.max(0, Number(count) || 0);
  const label = unread > 0 ? plural("notificationsUnread", unread) : t("notifications");
  [bell, bellLink].forEach(function (button) {
    if (!button) {
      return;
    }
    button.setAttribute("aria-label", label);
    const badge = $(".scc-bell-count", button);
    badge.textContent = String(unread);
    badge.hidden = unread <= 0;
  });
  if (say && status) {
    status.textContent = plural("notificationsCount", unread);
  }
}

function listed(id) {
  return list ? $('li[data-id="' + String(Number(id)) + '"]', list) : null;
}

function showRead(node) {
  node.classList.remove("scc-notification-unread");
  const mark = $(".scc-notify-unread", node);
  if (mark) {
    mark.remove();
  }
}

function showState(error) {
  $(".scc-notify-empty", panel).hidden = !!error || list.children.length > 0;
  const problem = $(".scc-notify-error", panel);
  problem.textContent = error || "";
  problem.hidden = !error;
  $(".scc-notify-more", panel).hidden = !next;
}

function request(method, url, body) {
  return window
    .fetch(url, {
      method: method,
      credentials: "same-origin",
      keepalive: method !== "GET",
      headers: { Accept: "application/json", "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: body ? JSON.stringify(body) : undefined,
    })
    .then(function (response) {
      if (!response.ok) {
        throw new Error("notifications " + response.status);
      }
      return response.json();
    });
}

/* The first page again (`url` null) or the next one (appended). */
function load(url) {
  const target = url || settings.listUrl;
  fetching = target;
  return request("GET", target)
    .then(function (page) {
      if (fetching !== target) {
        return;
      }
      fetching = null;
      if (!url) {
        list.replaceChildren();
      }
      page.results.forEach(function (notification) {
        if (!listed(notification.id)) {
          list.appendChild(item(notification));
        }
      });
      next = page.next;
      setUnread(page.unread, false);
      showState(null);
    })
    .catch(function () {
      fetching = null;
      showState(t("notificationsFailed"));
    });
}

/** Mark `ids` (or all) read: the server answers the count, and tells the person's other
    tabs (`notifications.read`). */
export function markRead(ids, all) {
  (all ? $$("li", list) : ids.map(listed)).forEach(function (node) {
    if (node) {
      showRead(node);
    }
  });
  return request("POST", settings.readUrl, all ? { all: true } : { ids: ids }).then(function (answer) {
    setUnread(answer.unread, true);
  });
}

/** Open a notification's message (a desktop notification's click): read, then there. */
export function openNotification(notification) {
  markRead([notification.id], false).catch(function () {});
  window.location.assign(notification.url);
}

function isOpen() {
  return !!panel && !panel.hidden;
}

/* The sidebar above the main pane while the panel is open (the panel is inside it). */
function lift(above) {
  const sidebar = wrap.closest("nav") || wrap;
  sidebar.classList.toggle("scc-notify-above", above);
}

/* Under the bell, inside the window. */
function place() {
  const bounds = bell.getBoundingClientRect();
  const width = panel.offsetWidth;
  panel.style.top = Math.round(bounds.bottom + 4) + "px";
  panel.style.left = Math.round(Math.max(8, Math.min(bounds.left, window.innerWidth - width - 8))) + "px";
}

function open() {
  panel.hidden = false;
  lift(true);
  place();
  bell.setAttribute("aria-expanded", "true");
  panel.focus();
  load(null);
}

function close(giveFocus) {
  if (!isOpen()) {
    return;
  }
  panel.hidden = true;
  lift(false);
  bell.setAttribute("aria-expanded", "false");
  if (giveFocus) {
    bell.focus();
  }
}

/** "notification": the count, the panel's list, and a desktop notification when the tab
    is hidden and the person wants them (`browser`). */
export function onNotification(frame) {
  const notification = frame.notification;
  setUnread(frame.unread, true);
  if (isOpen() && !listed(notification.id)) {
    list.insertBefore(item(notification), list.firstElementChild);
    showState(null);
  }
  if (frame.browser && !announced[notification.id]) {
    announced[notification.id] = true;
    desktop.show(notification, openNotification);
  }
}

/** "notifications.read": read here or in another tab. */
export function onRead(frame) {
  (frame.all ? $$("li", list || document.createElement("ol")) : (frame.ids || []).map(listed)).forEach(function (node) {
    if (node) {
      showRead(node);
    }
  });
  setUnread(frame.unread, true);
}

export function init() {
  if (!settings || !settings.listUrl || !settings.readUrl || !bell || !panel || !window.fetch) {
    return; // the bell stays a link to the notifications page
  }
  bell.hidden = false;
  bellLink.hidden = true;
  desktop.init(panel);
  bell.addEventListener("click", function () {
    if (isOpen()) {
      close(true);
    } else {
      open();
    }
  });
  $(".scc-notify-close", panel).addEventListener("click", function () {
    close(true);
  });
  $(".scc-notify-all", panel).addEventListener("click", function (event) {
    event.preventDefault(); // the form is for the CSRF token (and a page without fetch)
    markRead([], true).catch(function () {
      showState(t("notificationsFailed"));
    });
  });
  $(".scc-notify-more", panel).addEventListener("click", function () {
    if (next) {
      load(next);
    }
  });
  list.addEventListener("click", function (event) {
    const link = event.target.closest("a.scc-notify-link");
    const node = link && link.closest("li.scc-notification");
    if (node && node.classList.contains("scc-notification-unread")) {
      markRead([Number(node.getAttribute("data-id"))], false).catch(function () {});
    }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && isOpen() && (panel.contains(event.target) || event.target === bell)) {
      event.preventDefault();
      close(true);
    }
  });
  document.addEventListener("click", function (event) {
    if (isOpen() && !wrap.contains(event.target)) {
      close(false);
    }
  });
  window.addEventListener("resize", function () {
    if (isOpen()) {
      place();
    }
  });
  // A socket opened again after a loss: what arrived meanwhile is counted (the panel, if
  // open, is fetched again).
  on("open", function () {
    if (connectedOnce) {
      load(null);
    }
    connectedOnce = true;
  });
}
