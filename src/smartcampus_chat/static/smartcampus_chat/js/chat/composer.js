/*
 * The composer: a message shows at once as pending ("sending…", with its author), goes out
 * with a fresh client_id, and is re-sent with the same client_id on every new socket until
 * acked (the server stores a client_id once, however often it arrives). A message the
 * server refuses, or still not delivered after FAILED_AFTER reconnect attempts in a row,
 * is marked failed (.scc-failed) with Retry and Discard (the latter still goes out by
 * itself once a socket opens again, as the pending ones do); when the client stops for good
 * (signed out, removed, archived) the composer is disabled and nothing stays "sending".
 * ↑ in an empty composer edits the reader's last message. A message may carry attachments
 * (attachments.js): it goes out once they are all uploaded, its text then optional.
 */

import { takeOptions } from "./announcements.js";
import { isComposingAnonymously, takeAnonymous } from "./anonymous.js";
import { takeAttachments } from "./attachments.js";
import { emit, on } from "./bus.js";
import { startEdit } from "./edit.js";
import { showAttachments } from "./files.js";
import { t } from "./i18n.js";
import { list, newMessageNode, pending } from "./messages.js";
import { $, $$, config, roomSlug } from "./page.js";
import { takeReply } from "./replies.js";
import { nextId, send } from "./socket.js";
import { decorate } from "./timeline.js";

// Reconnect attempts in a row after which a message still pending shows as failed.
const FAILED_AFTER = 3;
// Longest wait, in seconds, between two tries of a send the server could not store yet.
const RETRY_MAX = 30;

let composer = null;

function newClientId() {
  if (window.crypto && window.crypto.randomUUID) {
    return window.crypto.randomUUID();
  }
  return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 12);
}

function sendPending(clientId) {
  const entry = pending[clientId];
  if (!entry) {
    return;
  }
  entry.frameId = nextId();
  const frame = { type: "message.send", room: entry.room, content: entry.content, client_id: clientId, id: entry.frameId };
  if (entry.replyTo) {
    frame.reply_to = entry.replyTo;
  }
  if (entry.attachments.length) {
    frame.attachments = entry.attachments.map((attachment) => attachment.id);
  }
  if (entry.options) {
    Object.assign(frame, entry.options); // an announcement (announcements.js)
  }
  send(frame);
}

/* Send `content` with the composer's attachments; false when nothing went out (nothing to
   send, or uploads still running or failed: the text stays in the composer). */
function submit(content) {
  const text = content.trim();
  if (!list) {
    return false;
  }
  const attachments = takeAttachments();
  if (attachments === null || (!text && !attachments.length)) {
    return false;
  }
  const clientId = newClientId();
  const node = newMessageNode();
  const anonymous = isComposingAnonymously();
  node.classList.add("scc-pending", "scc-mine");
  node.classList.toggle("scc-anonymous", anonymous);
  node.setAttribute("data-client-id", clientId);
  // An anonymous post never joins its author's group, not even while it is sent.
  node.setAttribute("data-sender-id", anonymous ? "" : String(config.userId));
  node.setAttribute("data-created", new Date().toISOString());
  const author = $(".scc-author", node);
  if (author) {
    author.textContent = anonymous ? t("anonymousName") : config.userName;
  }
  const time = $("time.scc-time", node);
  if (time) {
    time.textContent = t("sending");
  }
  const body = $(".scc-content", node);
  if (body) {
    body.textContent = text;
  }
  showAttachments(node, attachments, text);
  list.appendChild(node);
  decorate(list);
  pending[clientId] = {
    room: roomSlug,
    content: text,
    attachments: attachments,
    replyTo: takeReply(),
    options: takeOptions() || takeAnonymous(),
    node: node,
    frameId: null,
  };
  sendPending(clientId);
  return true;
}

function button(label, className, onClick) {
  const element = document.createElement("button");
  element.type = "button";
  element.className = "btn btn-sm " + className;
  element.textContent = label;
  element.addEventListener("click", onClick);
  return element;
}

/* The message of `clientId` could not be delivered: say why, offer Retry (`retry`) and
   Discard. `queued`: the connection is the reason, so it stays queued and goes out on the
   next socket by itself (Retry only sends it at once when possible). */
function markFailed(clientId, reason, retry, queued) {
  const entry = pending[clientId];
  if (!entry) {
    return;
  }
  if (!queued) {
    delete pending[clientId];
  }
  const node = entry.node;
  node.classList.remove("scc-pending");
  node.classList.add("scc-failed");
  const time = $("time.scc-time", node);
  if (time) {
    time.textContent = t("failed");
  }
  const old = $(".scc-failed-actions", node);
  if (old) {
    old.remove();
  }
  const bar = document.createElement("div");
  bar.className = "scc-failed-actions";
  const why = document.createElement("span");
  why.className = "scc-failed-reason";
  why.textContent = reason;
  bar.appendChild(why);
  if (retry) {
    bar.appendChild(
      button(t("retry"), "scc-btn-primary scc-retry", function () {
        bar.remove();
        node.classList.remove("scc-failed");
        node.classList.add("scc-pending");
        if (time) {
          time.textContent = t("sending");
        }
        pending[clientId] = Object.assign({}, entry, { frameId: null });
        sendPending(clientId);
        focusComposer();
      })
    );
  }
  bar.appendChild(
    button(t("discard"), "btn-outline-secondary scc-discard", function () {
      delete pending[clientId];
      node.remove();
      decorate(list);
      focusComposer();
    })
  );
  ($(".scc-bubble", node) || node).appendChild(bar);
}

function focusComposer() {
  const box = composer && $("textarea[name=content]", composer);
  if (box && !box.disabled) {
    box.focus();
  }
}

/* The client stopped for good (or the room became read-only): no more sending. */
function disable(reason) {
  Object.keys(pending).forEach(function (clientId) {
    markFailed(clientId, t(reason), false, false);
  });
  if (!composer) {
    return;
  }
  $$("textarea, button", composer).forEach(function (control) {
    control.disabled = true;
  });
  let notice = $(".scc-composer-closed", composer);
  if (!notice) {
    notice = document.createElement("p");
    notice.className = "scc-composer-closed small mt-1 mb-0";
    notice.setAttribute("role", "status");
    composer.appendChild(notice);
  }
  notice.textContent = t(reason);
}

function editLast(textarea) {
  const mine = $$("li.scc-message.scc-mine[data-can-edit]:not(.scc-deleted)", list);
  if (mine.length) {
    startEdit(mine[mine.length - 1], textarea);
    return true;
  }
  return false;
}

function pendingForFrame(frameId) {
  let found = null;
  Object.keys(pending).forEach(function (clientId) {
    if (pending[clientId].frameId === frameId) {
      found = clientId;
    }
  });
  return found;
}

/** An error answering a message.send. Rate limited: sent again after retry_after.
    Unavailable (the server's database or cache is out for a moment; docs/protocol.md):
    sent again with the same client_id, stored at most once, backing off up to
    RETRY_MAX seconds; after FAILED_AFTER in a row it shows as not delivered while it
    keeps trying, as when the connection is the reason. Anything else: failed, with the
    server's reason. */
export function sendRefused(frame) {
  const clientId = frame.id == null ? null : pendingForFrame(frame.id);
  if (!clientId) {
    return false;
  }
  if (frame.code === "rate_limited" || frame.code === "unavailable") {
    const entry = pending[clientId];
    let wait = frame.retry_after || 1;
    if (frame.code === "unavailable") {
      entry.unavailable = (entry.unavailable || 0) + 1;
      wait = Math.max(wait, Math.min(2 ** (entry.unavailable - 1), RETRY_MAX));
      if (entry.unavailable >= FAILED_AFTER) {
        markFailed(clientId, t("notDelivered"), true, true);
      }
    }
    setTimeout(function () {
      sendPending(clientId);
    }, Math.ceil(wait * 1000));
    return true;
  }
  // Refused for good (too long, archived room...): retrying would not change the answer
  // unless the reason passes (the reader edits nothing here: Discard, or Retry later).
  // A message held for review waits in the moderators' queue: sending it again would
  // only hold it twice, so it offers Discard alone.
  markFailed(clientId, frame.message, frame.code !== "held_for_review", false);
  return true;
}

export function init() {
  on("open", function () {
    Object.keys(pending).forEach(sendPending);
  });
  on("lost", function (detail) {
    if (detail.attempts >= FAILED_AFTER) {
      Object.keys(pending).forEach(function (clientId) {
        if (!pending[clientId].node.classList.contains("scc-failed")) {
          markFailed(clientId, t("notDelivered"), true, true);
        }
      });
    }
  });
  on("stopped", function (detail) {
    disable(detail.reason);
  });
  on("roomUpdated", function (detail) {
    if (detail.room.slug === roomSlug && detail.room.is_archived) {
      disable("archived");
    }
  });
  on("room:open", bind);
  bind();
}

/* Bind the pane's #composer (at load, and each time the shell swaps a room in). */
function bind() {
  composer = $("#composer");
  if (!composer) {
    return;
  }
  const textarea = $("textarea[name=content]", composer);
  composer.addEventListener("submit", function (event) {
    event.preventDefault();
    if (textarea) {
      if (submit(textarea.value)) {
        emit("submit"); // the message itself clears the indicator of the others
        textarea.value = "";
      }
      textarea.focus();
    }
  });
  if (textarea) {
    textarea.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        composer.requestSubmit ? composer.requestSubmit() : composer.dispatchEvent(new Event("submit"));
      } else if (event.key === "ArrowUp" && !textarea.value && list && editLast(textarea)) {
        event.preventDefault();
      }
    });
  }
}
