/*
 * The message list: render a message from its payload, apply message.* frames and acks
 * in event_seq order. User text is only ever inserted with textContent, but for the
 * server's sanitised rendering of a message (format.js).
 */

import { isOwnAnonymous, showAnonymous } from "./anonymous.js";
import { emit, on } from "./bus.js";
import { formatFull, formatTime } from "./dates.js";
import { showAttachments } from "./files.js";
import { plainText, showFormatted } from "./format.js";
import { markMentions } from "./mentions.js";
import { announce, authorName, format, t } from "./i18n.js";
import { $, $$, config, isMe, roomSlug } from "./page.js";
import { showPin, updatePinned } from "./pins.js";
import { showPoll } from "./polls.js";
import { showPreview } from "./previews.js";
import { refreshQuotes, showQuote } from "./quotes.js";
import { showReactions } from "./reactions.js";
import { noteEventSeq } from "./socket.js";
import { decorate, forget } from "./timeline.js";

export let list = $("#message-list");
const template = $("template#scc-message-template");
// docs/frontend.md: a page of older history does not grow live messages.
let showsOlderSlice = !!$("#newer");

// The shell swapped another room's pane in (docs/frontend.md, "The shell"): bind to it.
on("room:open", function (detail) {
  list = $("#message-list", detail.root);
  showsOlderSlice = !!$("#newer", detail.root);
});

/** Messages sent and not yet stored: client_id -> {content, node, frameId} (composer.js). */
export const pending = {};

export function findMessage(id) {
  return list ? $('li.scc-message[data-id="' + String(Number(id)) + '"]', list) : null;
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
  // An anonymous post names nobody: the reader's own is known from its ack (anonymous.js).
  const mine = isMe(message.sender) || isOwnAnonymous(message);
  node.classList.remove("scc-pending", "scc-failed");
  const failedBar = $(".scc-failed-actions", node);
  if (failedBar) {
    failedBar.remove();
  }
  node.classList.toggle("scc-mine", mine);
  node.classList.toggle("scc-deleted", !!message.is_deleted);
  node.classList.toggle("scc-system", message.kind === "system");
  node.classList.toggle("scc-announcement", message.kind === "announcement");
  const label = $(".scc-announcement-label", node);
  if (label) {
    label.hidden = message.kind !== "announcement";
  }
  node.id = "message-" + String(Number(message.id));
  node.setAttribute("data-id", String(message.id));
  node.setAttribute("data-seq", String(message.seq));
  node.setAttribute("data-event-seq", String(message.event_seq));
  node.setAttribute("data-sender-id", message.sender ? String(message.sender.id) : "");
  showAnonymous(node, message);
  if (message.client_id) {
    node.setAttribute("data-client-id", message.client_id);
  }
  const author = $(".scc-author", node);
  if (author) {
    author.textContent = authorName(message);
  }
  const time = $("time.scc-time", node);
  forget(node);
  if (time) {
    time.setAttribute("datetime", message.created_at);
    time.textContent = formatTime(message.created_at);
    time.title = formatFull(message.created_at);
  }
  const content = $(".scc-content", node);
  if (content && message.is_deleted) {
    content.textContent = t("message_deleted");
  } else if (content) {
    showFormatted(content, message.content_html);
  }
  // The images' alt text is the caption (the message's text), else each file's name.
  const caption = content && !message.is_deleted ? plainText(content) : "";
  showAttachments(node, message.attachments, caption);
  showPoll(node, message);
  markMentions(node, message);
  // The Markdown an edit starts from (edit.js), on the messages the reader may edit.
  if (mine && !message.is_deleted) {
    node.setAttribute("data-source", message.content || "");
  } else {
    node.removeAttribute("data-source");
  }
  showQuote(node, message);
  showReactions(node, message);
  showPreview(node, message);
  showPin(node, message);
  const edited = $(".scc-edited", node);
  if (edited) {
    edited.hidden = !(message.is_edited && !message.is_deleted);
  }
  // What the menu offers (menu.js): the server decided it for the messages it rendered;
  // for the others, the same policy: the author edits and deletes, moderators delete.
  if (!node.classList.contains("scc-static")) {
    node.toggleAttribute("data-can-edit", mine);
    node.toggleAttribute("data-can-delete", mine || !!config.canModerate);
  }
  if (message.is_deleted) {
    node.removeAttribute("data-can-edit");
    node.removeAttribute("data-can-delete");
  }
}

function announceMessage(message, node) {
  if (isOwnAnonymous(message)) {
    return;
  }
  if (message.kind !== "system" && !message.anonymous && (!message.sender || isMe(message.sender))) {
    return;
  }
  const content = $(".scc-content", node);
  const text = content ? plainText(content) : "";
  announce(format(t("new_message_announcement"), { name: authorName(message) }) + ": " + text);
}

function firstPending() {
  // Not stored yet: pending, or failed (those stay after every stored message).
  return list ? $("li.scc-pending, li.scc-failed", list) : null;
}

/* Insert or update a message; older versions (by event_seq) are ignored. */
function upsert(message, isNew) {
  if (message.room !== roomSlug && message.client_id && pending[message.client_id]) {
    delete pending[message.client_id]; // sent from a room the reader has since left
  }
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
    decorate(list);
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
    const unsent = li.classList.contains("scc-pending") || li.classList.contains("scc-failed");
    if (!unsent && Number(li.getAttribute("data-seq")) > message.seq && !after) {
      after = li;
    }
  });
  list.insertBefore(node, after || firstPending());
  decorate(list);
  if (isNew) {
    announceMessage(message, node);
    emit("arrived", { message: message });
  }
  emit("shown", { seq: message.seq });
}

/** message.new, message.edited, message.deleted. */
export function onMessageFrame(frame) {
  const message = frame.message;
  noteEventSeq(message.room, message.event_seq);
  upsert(message, frame.type === "message.new");
  if (frame.type !== "message.new") {
    refreshQuotes(message);
    updatePinned(message);
  }
  emit("message", { message: message, type: frame.type });
}

/** The server stored what we sent: the pending copy becomes the message. */
export function onAck(frame) {
  if (frame.message) {
    upsert(frame.message, false);
    // An anonymous post's broadcast carries no client_id: when it came before this ack,
    // it made its own node, and the pending copy is left over.
    const left = frame.client_id && pending[frame.client_id];
    if (left && frame.message.room === roomSlug && findMessage(frame.message.id) !== left.node) {
      left.node.remove();
      delete pending[frame.client_id];
      decorate(list);
    }
  }
}
