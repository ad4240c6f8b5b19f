/*
 * Pins: a pinned message shows a pin by its time; "Pin" / "Unpin" in a message's menu
 * (the room's moderators: `canModerate`) sends message.pin / message.unpin; the details
 * panel's "Pinned" list (includes/pinned.html) follows message.pinned frames live, newest
 * pin first, each entry a link to the message.
 */

import { excerptOf } from "./format.js";
import { authorName } from "./i18n.js";
import { $, config, roomSlug } from "./page.js";
import { nextId, send } from "./socket.js";

/** Show whether message `node` is pinned (the pin by its time). */
export function showPin(node, message) {
  const pin = $(".scc-pin", node);
  if (pin) {
    pin.hidden = !message.pinned_at;
  }
  node.toggleAttribute("data-pinned", !!message.pinned_at);
}

export function canPin(node) {
  return !!config.canModerate && !node.classList.contains("scc-deleted");
}

export function togglePin(node) {
  send({
    type: node.hasAttribute("data-pinned") ? "message.unpin" : "message.pin",
    room: roomSlug,
    message_id: Number(node.getAttribute("data-id")),
    id: nextId(),
  });
}

function entry(message) {
  const item = document.createElement("li");
  item.setAttribute("data-message-id", String(message.id));
  item.setAttribute("data-pinned-at", message.pinned_at);
  item.setAttribute("data-seq", String(Number(message.seq)));
  const link = document.createElement("a");
  link.className = "scc-pinned-link";
  link.href = "?message=" + String(Number(message.id));
  const author = document.createElement("span");
  author.className = "scc-pinned-author";
  author.textContent = authorName(message);
  const excerpt = document.createElement("span");
  excerpt.className = "scc-pinned-excerpt";
  excerpt.textContent = excerptOf(message.content_html);
  link.append(author, " ", excerpt);
  item.appendChild(link);
  return item;
}

/** A message changed: the open room's "Pinned" list follows (added, removed, updated). */
export function updatePinned(message) {
  const panel = $(".scc-pinned");
  if (!panel || message.room !== roomSlug) {
    return;
  }
  const list = $(".scc-pinned-list", panel);
  const old = $('li[data-message-id="' + String(Number(message.id)) + '"]', list);
  const shown = !!message.pinned_at && !message.is_deleted;
  if (old && !shown) {
    old.remove();
  } else if (old) {
    old.replaceWith(entry(message));
  } else if (shown) {
    list.prepend(entry(message)); // the newest pin first
  }
  const count = list.children.length;
  $(".scc-pinned-count", panel).textContent = String(count);
  $(".scc-pinned-empty", panel).hidden = count > 0;
}

/** Messages were purged (purges.js): their entries leave the "Pinned" list. */
export function dropPinned(isPurged) {
  const panel = $(".scc-pinned");
  if (!panel) {
    return;
  }
  const list = $(".scc-pinned-list", panel);
  Array.prototype.slice.call(list.children).forEach(function (item) {
    if (isPurged(Number(item.getAttribute("data-seq")))) {
      item.remove();
    }
  });
  const count = list.children.length;
  $(".scc-pinned-count", panel).textContent = String(count);
  $(".scc-pinned-empty", panel).hidden = count > 0;
}
