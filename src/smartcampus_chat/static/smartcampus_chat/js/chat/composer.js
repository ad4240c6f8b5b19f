/*
 * The composer: a message shows at once as pending ("sending…"), goes out with a fresh
 * client_id, and is re-sent with the same client_id on every new socket until acked (the
 * server stores a client_id once, however often it arrives).
 */

import { emit, on } from "./bus.js";
import { t } from "./i18n.js";
import { list, newMessageNode, pending } from "./messages.js";
import { $, config, roomSlug } from "./page.js";
import { nextId, send } from "./socket.js";

const composer = $("#composer");

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
  send({ type: "message.send", room: roomSlug, content: entry.content, client_id: clientId, id: entry.frameId });
}

function submit(content) {
  const text = content.trim();
  if (!text || !list) {
    return;
  }
  const clientId = newClientId();
  const node = newMessageNode();
  node.classList.add("scc-pending", "scc-mine");
  node.setAttribute("data-client-id", clientId);
  const author = $(".scc-author", node);
  if (author) {
    author.textContent = config.userName;
  }
  const time = $("time.scc-time", node);
  if (time) {
    time.textContent = t("sending");
  }
  const body = $(".scc-content", node);
  if (body) {
    body.textContent = text;
  }
  const actions = $(".scc-actions", node);
  if (actions) {
    actions.hidden = true;
  }
  list.appendChild(node);
  pending[clientId] = { content: text, node: node, frameId: null };
  sendPending(clientId);
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

/** An error answering a message.send: retried after retry_after when rate limited, else
    the message shows as failed with the server's reason. */
export function sendRefused(frame) {
  const clientId = frame.id == null ? null : pendingForFrame(frame.id);
  if (!clientId) {
    return false;
  }
  if (frame.code === "rate_limited") {
    setTimeout(function () {
      sendPending(clientId);
    }, Math.ceil((frame.retry_after || 1) * 1000));
    return true;
  }
  const node = pending[clientId].node;
  delete pending[clientId];
  node.classList.remove("scc-pending");
  node.classList.add("scc-failed");
  const time = $("time.scc-time", node);
  if (time) {
    time.textContent = frame.message;
  }
  return true;
}

export function init() {
  on("open", function () {
    Object.keys(pending).forEach(sendPending);
  });
  if (!composer) {
    return;
  }
  const textarea = $("textarea[name=content]", composer);
  composer.addEventListener("submit", function (event) {
    event.preventDefault();
    emit("submit"); // the message itself clears the indicator of the others
    if (textarea) {
      submit(textarea.value);
      textarea.value = "";
      textarea.focus();
    }
  });
  if (textarea) {
    textarea.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        composer.requestSubmit ? composer.requestSubmit() : composer.dispatchEvent(new Event("submit"));
      }
    });
  }
}
