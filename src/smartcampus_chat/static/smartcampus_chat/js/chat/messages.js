/*
 * The message list: render a message from its payload, apply message.* frames and acks
 * in event_seq order. User text is only ever inserted with textContent.
 */

import { emit } from "./bus.js";
import { announce, format, t } from "./i18n.js";
import { $, $$, config, isMe, roomSlug } from "./page.js";
import { noteEventSeq } from "./socket.js";

export const list = $("#message-list");
const template = $("template#scc-message-template");
// docs/frontend.md: a page of older history does not grow live messages.
const showsOlderSlice = !!$("#newer");

/** Messages sent and not yet stored: client_id -> {content, node, frameId} (composer.js). */
export const pending = {};

export function findMessage(id) {
  return list ? $('li.scc-message[data-id="' + String(Number(id)) + '"]', list) : null;
}

function formatTime(value) {
  const date = new Date(value);
  return isNaN(date.getTime()) ? "" : date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

export function newMessageNode() {
  if (template && template.content && template.content.firstElementChild) {
    return template.content.firstElementChild.cloneNode(true);
  }
  const li = document.createElement("li");
  li.className = "scc-message";
  ["scc-author", "scc-content"].forEach(function (name) {
    const part = document.createElement("div");
    part.className = name;
    li.appendChild(part);
  });
  const time = document.createElement("time");
  time.className = "scc-time";
  li.appendChild(time);
  return li;
}

export function fill(node, message) {
  const mine = isMe(message.sender);
  node.classList.remove("scc-pending");
  node.classList.toggle("scc-mine", mine);
  node.classList.toggle("scc-deleted", !!message.is_deleted);
  node.setAttribute("data-id", String(message.id));
  node.setAttribute("data-seq", String(message.seq));
  node.setAttribute("data-event-seq", String(message.event_seq));
  node.setAttribute("data-sender-id", message.sender ? String(message.sender.id) : "");
  if (message.client_id) {
    node.setAttribute("data-client-id", message.client_id);
  }
  const author = $(".scc-author", node);
  if (author) {
    author.textContent = message.sender ? message.sender.name : t("deletedUser");
  }
  const time = $("time.scc-time", node);
  if (time) {
    time.setAttribute("datetime", message.created_at);
    time.textContent = formatTime(message.created_at);
  }
  const content = $(".scc-content", node);
  if (content) {
    content.textContent = message.is_deleted ? t("message_deleted") : message.content;
  }
  const edited = $(".scc-edited", node);
  if (edited) {
    edited.hidden = !(message.is_edited && !message.is_deleted);
  }
  const actions = $(".scc-actions", node);
  if (actions) {
    const serverRendered = node.classList.contains("scc-static");
    actions.hidden = !!message.is_deleted || (!mine && !serverRendered && !config.canModerate);
    const editButton = $('[data-action="edit"]', actions);
    if (editButton && !serverRendered) {
      editButton.hidden = !mine;
    }
  }
}

function announceMessage(message) {
  if (!message.sender || isMe(message.sender)) {
    return;
  }
  announce(format(t("new_message_announcement"), { name: message.sender.name }) + ": " + (message.content || ""));
}

function firstPending() {
  return list ? $("li.scc-pending", list) : null;
}

/* Insert or update a message; older versions (by event_seq) are ignored. */
function upsert(message, isNew) {
  if (!list || message.room !== roomSlug) {
    return;
  }
  let node = findMessage(message.id);
  if (!node && message.client_id && pending[message.client_id]) {
    node = pending[message.client_id].node;
    delete pending[message.client_id];
  }
  if (node) {
    const known = Number(node.getAttribute("data-event-seq") || 0);
    if (known >= message.event_seq && !node.classList.contains("scc-pending")) {
      return;
    }
    fill(node, message);
    return;
  }
  if (showsOlderSlice) {
    return;
  }
  node = newMessageNode();
  fill(node, message);
  // Keep the list ordered by seq, whatever order frames arrive in.
  let after = null;
  $$("li.scc-message[data-seq]", list).forEach(function (li) {
    if (!li.classList.contains("scc-pending") && Number(li.getAttribute("data-seq")) > message.seq && !after) {
      after = li;
    }
  });
  list.insertBefore(node, after || firstPending());
  if (isNew) {
    announceMessage(message);
    emit("arrived", { message: message });
  }
  emit("shown", { seq: message.seq });
}

/** message.new, message.edited, message.deleted. */
export function onMessageFrame(frame) {
  const message = frame.message;
  noteEventSeq(message.room, message.event_seq);
  upsert(message, frame.type === "message.new");
  emit("message", { message: message, type: frame.type });
}

/** The server stored what we sent: the pending copy becomes the message. */
export function onAck(frame) {
  if (frame.message) {
    upsert(frame.message, false);
  }
}
