/*
 * Typing: show who else is typing (#typing-indicator), and tell the others while the reader
 * types. Timings come from the server (TYPING_TIMEOUT): "started" is refreshed every
 * config.typingRefreshMs while typing, "stopped" goes after config.typingIdleMs of
 * silence, and another's "started" expires after the frame's own expires_in.
 */

import { isComposingAnonymously } from "./anonymous.js";
import { on } from "./bus.js";
import { format, t } from "./i18n.js";
import { $, config, isMe, roomSlug } from "./page.js";
import { send } from "./socket.js";

let typingNode = null;
const typists = {}; // user id -> {name, timer}
let lastTypingSent = 0;
let typingIdleTimer = null;

function renderTyping() {
  if (!typingNode) {
    return;
  }
  const names = Object.keys(typists).map(function (id) {
    return typists[id].name;
  });
  if (!names.length) {
    typingNode.textContent = "";
  } else if (names.length === 1) {
    typingNode.textContent = format(t("typing_one"), { name: names[0] });
  } else if (names.length === 2) {
    typingNode.textContent = format(t("typing_two"), { name: names[0], other: names[1] });
  } else {
    typingNode.textContent = format(t("typing_many"), { name: names[0], count: names.length - 1 });
  }
}

/* Forget that we announced typing; tell the others when `notify` (not after a send). */
function stopTyping(notify) {
  clearTimeout(typingIdleTimer);
  if (lastTypingSent && notify) {
    send({ type: "typing", room: roomSlug, state: "stopped" });
  }
  lastTypingSent = 0;
}

function clearTyping(userId) {
  if (userId != null && typists[userId]) {
    clearTimeout(typists[userId].timer);
    delete typists[userId];
    renderTyping();
  }
}

/** The "typing" frame: someone else started or stopped typing. */
export function onTyping(frame) {
  if (frame.room !== roomSlug || isMe(frame.user)) {
    return;
  }
  clearTyping(frame.user.id);
  if (frame.state === "started") {
    typists[frame.user.id] = {
      name: frame.user.name,
      timer: setTimeout(function () {
        clearTyping(frame.user.id);
      }, frame.expires_in * 1000),
    };
  }
  renderTyping();
}

function onInput(textarea) {
  const now = Date.now();
  clearTimeout(typingIdleTimer);
  if (isComposingAnonymously()) {
    // "Someone is typing" next to an anonymous post would name its author.
    stopTyping(true);
    return;
  }
  if (!textarea.value.trim()) {
    stopTyping(true);
    return;
  }
  if (now - lastTypingSent > Number(config.typingRefreshMs)) {
    lastTypingSent = now;
    send({ type: "typing", room: roomSlug, state: "started" });
  }
  typingIdleTimer = setTimeout(function () {
    stopTyping(true);
  }, Number(config.typingIdleMs));
}

/* Bind the pane's indicator and composer (at load, and each time the shell swaps a room in). */
function bind() {
  Object.keys(typists).forEach(clearTyping);
  typingNode = $("#typing-indicator");
  const textarea = $("#composer textarea[name=content]");
  if (textarea) {
    textarea.addEventListener("input", function () {
      onInput(textarea);
    });
  }
}

export function init() {
  // Leaving a room while typing there: the others' indicator stops now.
  on("room:close", function () {
    stopTyping(true);
  });
  on("room:open", bind);
  // A message from someone ends their indicator; our own send ends ours without a frame.
  on("arrived", function (detail) {
    clearTyping(detail.message.sender && detail.message.sender.id);
  });
  on("submit", function () {
    stopTyping(false);
  });
  bind();
}
