/*
 * Keyboard use of the conversation. The message list is ONE tab stop (a roving tabindex):
 * the active message has tabindex 0 and its menu button too, every other message -1;
 * ↑ ↓ Home End move between messages, Enter (or Shift+F10, the context-menu key) opens the
 * message's menu, Esc goes to the composer. Alt+Shift+M reaches the composer from
 * anywhere on the page (aria-keyshortcuts on it). A page full of messages costs two Tab
 * presses, not two per message.
 */

import { toggleMenu } from "./actions.js";
import { on } from "./bus.js";
import { list } from "./messages.js";
import { $ } from "./page.js";
import { decorate, setTabStop } from "./timeline.js";

const MESSAGE = "li.scc-message";

function textarea() {
  return $("#composer textarea[name=content]");
}

/** Put the focus in the composer (when it can take it). */
export function focusComposer() {
  const box = textarea();
  if (box && !box.disabled) {
    box.focus();
    return true;
  }
  return false;
}

function messages() {
  return list ? Array.prototype.slice.call(list.querySelectorAll(MESSAGE)) : [];
}

/* Make `node` the list's one tab stop. */
function activate(node) {
  messages().forEach(function (other) {
    if (other !== node && other.getAttribute("tabindex") === "0") {
      setTabStop(other, false);
    }
  });
  setTabStop(node, true);
}

function onKey(event) {
  const node = event.target;
  if (!node.matches || !node.matches(MESSAGE)) {
    return;
  }
  const all = messages();
  const index = all.indexOf(node);
  const target = {
    ArrowUp: all[index - 1],
    ArrowDown: all[index + 1],
    Home: all[0],
    End: all[all.length - 1],
  }[event.key];
  const button = $(".scc-menu-button", node);
  if (target) {
    event.preventDefault();
    activate(target);
    target.focus();
  } else if (button && (event.key === "Enter" || event.key === "ContextMenu" || (event.key === "F10" && event.shiftKey))) {
    event.preventDefault();
    toggleMenu(button, false);
  } else if (event.key === "Escape") {
    event.preventDefault();
    focusComposer();
  }
}

/* Bind the pane's list and composer (at load, and each time the shell swaps a room in). */
function bind(opened) {
  const box = textarea();
  if (box) {
    box.setAttribute("aria-keyshortcuts", "Alt+Shift+M");
  }
  if (!list) {
    return;
  }
  decorate(list); // menu buttons shown, tab stops set
  // The list's messages are the stop: the scrolling region itself needs none.
  const scroller = list.closest(".scc-scroll");
  if (scroller) {
    scroller.setAttribute("tabindex", "-1");
  }
  list.addEventListener("keydown", onKey);
  list.addEventListener("focusin", function (event) {
    const node = event.target.closest ? event.target.closest(MESSAGE) : null;
    if (node && node.getAttribute("tabindex") !== "0") {
      activate(node);
    }
  });
  // The composer has the focus when the room opens (not when a link targets a message,
  // nor on a touch screen, where it would open the keyboard over the conversation).
  const touch = window.matchMedia && window.matchMedia("(pointer: coarse)").matches;
  if (opened && !window.location.hash && !touch) {
    focusComposer();
  }
}

export function init() {
  document.addEventListener("keydown", function (event) {
    if (event.altKey && event.shiftKey && !event.ctrlKey && !event.metaKey && event.code === "KeyM") {
      if (focusComposer()) {
        event.preventDefault();
      }
    }
  });
  on("room:open", function () {
    bind(false); // the shell puts the reader in the composer after a switch
  });
  // A quote's parent was jumped to (quotes.js): it becomes the list's tab stop, focused.
  on("message:focus", function (detail) {
    activate(detail.node);
    detail.node.focus({ preventScroll: true });
  });
  bind(true);
}
