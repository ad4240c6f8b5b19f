/*
 * One notification as the bell's panel shows it (js/chat/notifications.js): the same DOM
 * as includes/notification_item.html, the server's rendering on the notifications page: a
 * link to the message in context with what it is, where, who, the start of the text and
 * when ("5 minutes ago", in the page's language). Every text is inserted as text.
 */

import { t } from "./i18n.js";
import { config, icon, textSpan } from "./page.js";

const ICONS = { announcement: "bi-megaphone-fill", mention: "bi-at", reply: "bi-reply-fill", private: "bi-envelope-fill", message: "bi-chat-left-text" };
const UNITS = [
  ["year", 31536000],
  ["month", 2592000],
  ["week", 604800],
  ["day", 86400],
  ["hour", 3600],
  ["minute", 60],
];

/* "5 minutes ago", in the page's language (Intl); the date itself in old browsers. */
function ago(iso) {
  const date = new Date(iso);
  const seconds = (date.getTime() - Date.now()) / 1000;
  if (!window.Intl || !Intl.RelativeTimeFormat) {
    return date.toLocaleString(config.locale);
  }
  const format = new Intl.RelativeTimeFormat(config.locale, { numeric: "auto" });
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size) {
      return format.format(Math.round(seconds / size), unit);
    }
  }
  return format.format(0, "second"); // "now"
}

/** What a notification is, in words ("Mention", "Reply"...). */
export function kindLabel(kind) {
  const labels = {
    announcement: t("notifyKind_announcement"),
    mention: t("notifyKind_mention"),
    reply: t("notifyKind_reply"),
    private: t("notifyKind_private"),
    message: t("notifyKind_message"),
  };
  return labels[kind] || labels.message;
}

/** A notification of the panel: the DOM of includes/notification_item.html without its
    mark-read form (in the panel, opening it marks it read). */
export function item(notification) {
  const node = document.createElement("li");
  node.className = "scc-notification" + (notification.read ? "" : " scc-notification-unread");
  node.setAttribute("data-id", String(notification.id));
  const link = document.createElement("a");
  link.className = "scc-notify-link";
  link.href = notification.url;
  const body = textSpan("scc-notify-body", "");
  const meta = textSpan("scc-notify-meta", "");
  const time = document.createElement("time");
  time.className = "scc-notify-time";
  time.dateTime = notification.created_at;
  time.textContent = ago(notification.created_at);
  meta.append(
    textSpan("scc-notify-kind", kindLabel(notification.kind)),
    " · ",
    textSpan("scc-notify-room", notification.room_name),
    " · ",
    time
  );
  body.append(
    meta,
    textSpan("scc-notify-actor", notification.actor ? notification.actor.name : t("someone")),
    textSpan("scc-notify-excerpt", notification.excerpt)
  );
  link.append(icon((ICONS[notification.kind] || ICONS.message) + " scc-notify-icon"), body);
  if (!notification.read) {
    link.appendChild(textSpan("visually-hidden scc-notify-unread", t("notificationUnread")));
  }
  node.appendChild(link);
  return node;
}
