/*
 * The room list (#my-rooms): rooms added and removed live, renamed, their last message
 * preview and unread badge.
 */

import { on } from "./bus.js";
import { showBanner, t } from "./i18n.js";
import { $, config, isMe, roomSlug } from "./page.js";
import { followRoom } from "./socket.js";

const myRooms = $("#my-rooms");

function roomItem(slug) {
  return myRooms ? $('li[data-room="' + slug.replace(/[^a-zA-Z0-9_-]/g, "") + '"]', myRooms) : null;
}

function setUnread(item, count) {
  let badge = $(".scc-unread", item);
  if (!badge) {
    badge = document.createElement("span");
    badge.className = "badge text-bg-primary scc-unread";
    item.appendChild(badge);
  }
  badge.textContent = String(count);
  badge.hidden = count <= 0;
}

/* A message of a listed room: its preview, one more unread (another's, in another room),
   and the room moves to the top. */
function updateRoomList(message, type) {
  const item = roomItem(message.room);
  if (!item) {
    return;
  }
  let preview = $(".scc-preview", item);
  if (!preview) {
    preview = document.createElement("small");
    preview.className = "scc-preview";
    item.appendChild(preview);
  }
  preview.textContent = message.is_deleted ? t("message_deleted") : (message.content || "").slice(0, 80);
  if (type === "message.new" && !isMe(message.sender) && message.room !== roomSlug) {
    const badge = $(".scc-unread", item);
    setUnread(item, (badge ? Number(badge.textContent) || 0 : 0) + 1);
  }
  if (myRooms && item.parentNode === myRooms) {
    myRooms.insertBefore(item, myRooms.firstElementChild);
  }
}

/** "room.added": the user joined (or was added to) a room; it links to the room page. */
export function onRoomAdded(frame) {
  const room = frame.room;
  followRoom(room.slug, room.last_event_seq);
  if (!myRooms || roomItem(room.slug)) {
    return;
  }
  const item = document.createElement("li");
  item.className = "list-group-item";
  item.setAttribute("data-room", room.slug);
  const link = document.createElement("a");
  link.href = config.roomUrl.replace("__slug__", encodeURIComponent(room.slug));
  link.textContent = room.title;
  item.appendChild(link);
  myRooms.insertBefore(item, myRooms.firstElementChild);
}

/** "room.removed": gone from the list; on its own page, the reader is told. */
export function onRoomRemoved(frame) {
  const item = roomItem(frame.room);
  if (item) {
    item.parentNode.removeChild(item);
  }
  if (frame.room === roomSlug) {
    showBanner(t("closedForbidden"));
  }
}

/** "room.updated": a new name (its title: what this user calls the room). */
export function onRoomUpdated(frame) {
  const named = roomItem(frame.room.slug);
  const link = named && $("a", named);
  if (link) {
    link.textContent = frame.room.title;
  }
}

/** "unread": the server's count for a room (after a read elsewhere, for instance). */
export function onUnread(frame) {
  const item = roomItem(frame.room);
  if (item) {
    setUnread(item, frame.unread);
  }
}

export function init() {
  on("message", function (detail) {
    updateRoomList(detail.message, detail.type);
  });
}
