/*
 * The sidebar's rooms (#my-rooms, in sections by room type): rooms added and removed live,
 * renamed, their last message preview ("bob: hello", as the server renders it) and unread
 * badge, and which one is open.
 */

import { emit, on } from "./bus.js";
import { plainTextOf } from "./format.js";
import { authorName, showBanner, t } from "./i18n.js";
import { mentionsMe } from "./mentions.js";
import { $, $$, config, isMe, roomSlug } from "./page.js";
import { followRoom, joinedOpenRoom } from "./socket.js";

const myRooms = $("#my-rooms");
const PREVIEW_CHARS = 80;

function roomItem(slug) {
  return myRooms ? $('li[data-room="' + String(slug).replace(/[^a-zA-Z0-9_-]/g, "") + '"]', myRooms) : null;
}

function sectionList(roomType) {
  const section = myRooms ? $('section[data-section="' + String(roomType).replace(/[^a-z]/g, "") + '"]', myRooms) : null;
  if (section) {
    section.hidden = false;
  }
  return section ? $("ul", section) : null;
}

function setUnread(item, count) {
  const badge = $(".scc-unread", item);
  if (badge) {
    badge.textContent = String(count);
    badge.hidden = count <= 0;
  }
  emit("unread:changed");
}

/* The "@2" badge: unread messages that mention the reader (or everyone). */
function setMentions(item, count) {
  const badge = $(".scc-mentions", item);
  if (badge) {
    badge.setAttribute("data-count", String(count));
    badge.textContent = "@" + count;
    badge.hidden = count <= 0;
  }
}

function mentionCount(item) {
  const badge = $(".scc-mentions", item);
  return badge ? Number(badge.getAttribute("data-count")) || 0 : 0;
}

/* The server's preview (queries/sidebar.py, preview_text): "<display name>: <text>", the
   text without its formatting, cut like Django's truncatechars; files sent without text
   are their names after a paperclip. */
function previewText(message) {
  if (message.is_deleted) {
    return t("message_deleted");
  }
  let content = plainTextOf(message.content_html);
  if (!content && message.attachments && message.attachments.length) {
    content = "\u{1F4CE} " + message.attachments.map(function (file) { return file.name; }).join(", ");
  }
  const text = content.length > PREVIEW_CHARS ? content.slice(0, PREVIEW_CHARS - 1) + "…" : content;
  return authorName(message) + ": " + text;
}

function moveToTop(item) {
  const list = item.parentNode;
  if (list && list.firstElementChild !== item) {
    list.insertBefore(item, list.firstElementChild);
  }
}

/* A message of a listed room: its preview, one more unread (another's, in a room the
   reader is not looking at), and the room moves to the top of its section. */
function updateRoomList(message, type) {
  const item = roomItem(message.room);
  if (!item) {
    return;
  }
  const preview = $(".scc-preview", item);
  if (preview && (type === "message.new" || Number(item.getAttribute("data-last-seq") || 0) <= message.seq)) {
    preview.textContent = previewText(message);
  }
  if (type === "message.new") {
    item.setAttribute("data-last-seq", String(message.seq));
    const looking = message.room === roomSlug && document.visibilityState === "visible";
    if (!isMe(message.sender) && !looking) {
      const badge = $(".scc-unread", item);
      setUnread(item, (badge ? Number(badge.textContent) || 0 : 0) + 1);
      if (mentionsMe(message.content_html)) {
        setMentions(item, mentionCount(item) + 1);
      }
    }
    moveToTop(item);
  }
}

function icon(room) {
  const names = { public: "bi-hash", group: "bi-people-fill", course: "bi-mortarboard-fill" };
  const span = document.createElement("span");
  span.className = "bi " + (names[room.room_type] || "bi-lock-fill") + " scc-room-icon";
  span.setAttribute("aria-hidden", "true");
  return span;
}

function newItem(room) {
  const item = document.createElement("li");
  item.className = "scc-room-card";
  item.setAttribute("data-room", room.slug);
  item.setAttribute("data-name", room.title);
  item.setAttribute("data-last-seq", String(room.last_seq));
  const link = document.createElement("a");
  link.className = "scc-room-link";
  link.href = config.roomUrl.replace("__slug__", encodeURIComponent(room.slug));
  link.title = room.title;
  link.setAttribute("data-shell-link", "");
  const label = document.createElement("span");
  label.className = "scc-room-label";
  label.textContent = room.title;
  const preview = document.createElement("span");
  preview.className = "scc-preview";
  const badge = document.createElement("span");
  badge.className = "badge rounded-pill scc-unread";
  badge.hidden = true;
  badge.textContent = "0";
  badge.title = t("unreadMessages");
  const mentions = document.createElement("span");
  mentions.className = "badge rounded-pill scc-mentions";
  mentions.title = t("unreadMentions");
  mentions.hidden = true;
  mentions.setAttribute("data-count", "0");
  mentions.textContent = "@0";
  [icon(room), label, preview, mentions, badge].forEach(function (part) {
    link.appendChild(part);
  });
  item.appendChild(link);
  return item;
}

/** "room.added": the user joined (or was added to) a room; it links to the room. Joining
    the open room (its Join button, or a first message) ends its "not a member" notice. */
export function onRoomAdded(frame) {
  const room = frame.room;
  followRoom(room.slug, room.last_event_seq);
  if (room.slug === roomSlug) {
    joinedOpenRoom();
    $$(".scc-join").forEach(function (notice) {
      notice.remove();
    });
  }
  const list = sectionList(room.room_type);
  if (!list || roomItem(room.slug)) {
    return;
  }
  list.insertBefore(newItem(room), list.firstElementChild);
  const empty = $(".scc-empty-item", myRooms);
  if (empty) {
    empty.hidden = true;
  }
  markCurrent();
}

/** "room.removed": gone from the list; in its open pane, the reader is told. */
export function onRoomRemoved(frame) {
  const item = roomItem(frame.room);
  if (item) {
    item.remove();
    emit("unread:changed");
  }
  if (frame.room === roomSlug) {
    showBanner(t("closedForbidden"));
    emit("stopped", { reason: "closedForbidden" });
  }
}

/** "room.updated": a new name (its title: what this user calls the room). */
export function onRoomUpdated(frame) {
  emit("roomUpdated", { room: frame.room });
  const item = roomItem(frame.room.slug);
  const label = item && $(".scc-room-label", item);
  if (label) {
    label.textContent = frame.room.title;
    item.setAttribute("data-name", frame.room.title);
    $("a", item).title = frame.room.title;
  }
}

/** "unread": the server's count for a room (after a read elsewhere, for instance). */
export function onUnread(frame) {
  const item = roomItem(frame.room);
  if (item) {
    setUnread(item, frame.unread);
    setMentions(item, frame.mentions);
  }
}

/* The open room's item is marked current (aria-current for screen readers). */
function markCurrent() {
  $$("li[data-room]", myRooms || document.createElement("div")).forEach(function (item) {
    const current = item.getAttribute("data-room") === roomSlug;
    item.classList.toggle("scc-current", current);
    const link = $("a", item);
    if (current) {
      link.setAttribute("aria-current", "page");
    } else {
      link.removeAttribute("aria-current");
    }
  });
}

export function init() {
  on("message", function (detail) {
    updateRoomList(detail.message, detail.type);
  });
  on("room:open", markCurrent);
}
