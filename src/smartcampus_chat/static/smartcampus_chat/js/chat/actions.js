/*
 * What one can do to a message, offered in its menu (menu.js). ACTIONS is the one list:
 * a later action (reply, react, pin, report, mute author) is one more line. `allowed` reads what the
 * server decided for the message (data-can-edit, data-can-delete; messages.js applies
 * the same policy to live ones). Edits and deletes go over the socket; the server's
 * message.edited / message.deleted frames update every reader's list.
 */

import { canReveal, openReveal } from "./anonymous.js";
import { on } from "./bus.js";
import { smallButton, startEdit } from "./edit.js";
import { plainText } from "./format.js";
import { announce, t } from "./i18n.js";
import { closeMenu, init as initMenu, isOpen, openMenu } from "./menu.js";
import { list } from "./messages.js";
import { $, config, roomSlug } from "./page.js";
import { canPin, togglePin } from "./pins.js";
import { openPicker } from "./reactions.js";
import { startReply } from "./replies.js";
import { canMuteAuthor, canReport, openMute, openReport } from "./reports.js";
import { nextId, send } from "./socket.js";

function can(name) {
  return function (node) {
    return node.hasAttribute(name);
  };
}

function always() {
  return true;
}

/* Reply where one may post (a composer) to a message still there. */
function canReply(node) {
  return !!$("#composer textarea[name=content]") && !node.classList.contains("scc-deleted");
}

const ACTIONS = [
  { action: "reply", label: t("reply"), icon: "bi-reply", allowed: canReply, run: reply },
  { action: "react", label: t("react"), icon: "bi-emoji-smile", allowed: canReply, run: react },
  { action: "edit", label: t("edit"), icon: "bi-pencil", allowed: can("data-can-edit"), run: edit },
  { action: "pin", label: pinLabel, icon: "bi-pin-angle", allowed: canPin, run: pin },
  { action: "copy-link", label: t("copyLink"), icon: "bi-link-45deg", allowed: always, run: copyLink },
  { action: "report", label: t("report"), icon: "bi-flag", allowed: canReport, run: report },
  { action: "reveal-author", label: t("revealAuthor"), icon: "bi-person-exclamation", danger: true, allowed: canReveal, run: revealAuthor },
  { action: "mute-author", label: t("muteAuthor"), icon: "bi-mic-mute", danger: true, allowed: canMuteAuthor, run: muteAuthor },
  { action: "delete", label: t("delete"), icon: "bi-trash", danger: true, allowed: can("data-can-delete"), run: confirmDelete },
];

function messageOf(element) {
  return element.closest("li.scc-message[data-id]");
}

function pinLabel(node) {
  return node.hasAttribute("data-pinned") ? t("unpin") : t("pin");
}

function report(button) {
  openReport(messageOf(button), button);
}

function revealAuthor(button) {
  openReveal(messageOf(button), button);
}

function muteAuthor(button) {
  openMute(messageOf(button), button);
}

function pin(button) {
  togglePin(messageOf(button));
}

function react(button) {
  openPicker(messageOf(button), button);
}

function reply(button) {
  startReply(messageOf(button));
}

function edit(button) {
  startEdit(messageOf(button), button.closest("li"));
}

function copyLink(button) {
  const node = messageOf(button);
  const url = new URL(config.roomUrl.replace("__slug__", encodeURIComponent(roomSlug)), window.location.href);
  url.searchParams.set("message", node.getAttribute("data-id"));
  button.focus();
  if (navigator.clipboard && navigator.clipboard.writeText) {
    navigator.clipboard.writeText(url.href).then(
      function () {
        announce(t("linkCopied"));
      },
      function () {}
    );
  }
}

/* Delete asks first, in a modal <dialog>: focus stays inside it, Esc cancels, and the
   focus goes back where it was. The message's text is shown as text. */
function confirmDelete(button) {
  const node = messageOf(button);
  const dialog = document.createElement("dialog");
  dialog.className = "scc-dialog scc-delete-dialog";
  dialog.setAttribute("aria-labelledby", "scc-dialog-title");
  const title = document.createElement("h2");
  title.id = "scc-dialog-title";
  title.className = "h6";
  title.textContent = t("confirm_delete");
  const quote = document.createElement("blockquote");
  quote.className = "scc-dialog-quote";
  const content = $(".scc-content", node);
  quote.textContent = content ? plainText(content) : "";
  const buttons = document.createElement("div");
  buttons.className = "d-flex justify-content-end gap-2";
  const cancel = smallButton(t("cancel"), "btn-outline-secondary");
  const confirm = smallButton(t("delete"), "btn-danger");
  confirm.setAttribute("data-action", "confirm-delete");
  buttons.appendChild(cancel);
  buttons.appendChild(confirm);
  dialog.appendChild(title);
  dialog.appendChild(quote);
  dialog.appendChild(buttons);
  cancel.addEventListener("click", function () {
    dialog.close();
  });
  confirm.addEventListener("click", function () {
    send({ type: "message.delete", room: roomSlug, message_id: Number(node.getAttribute("data-id")), id: nextId() });
    dialog.close();
  });
  dialog.addEventListener("close", function () {
    dialog.remove();
    button.focus();
  });
  (node.closest(".scc-room") || document.body).appendChild(dialog);
  dialog.showModal();
  cancel.focus();
}

/** The menu of the message around `button`: the actions allowed on it. */
export function toggleMenu(button, focusLast) {
  if (isOpen(button)) {
    closeMenu(true);
    return;
  }
  const node = messageOf(button);
  if (!node || !node.getAttribute("data-id") || node.classList.contains("scc-pending")) {
    return;
  }
  // A label may depend on the message ("Pin" or "Unpin"): a function of it.
  const entries = ACTIONS.filter(function (entry) {
    return entry.allowed(node);
  }).map(function (entry) {
    return typeof entry.label === "function" ? Object.assign({}, entry, { label: entry.label(node) }) : entry;
  });
  openMenu(button, entries, focusLast);
}

function onClick(event) {
  const button = event.target.closest ? event.target.closest(".scc-menu-button") : null;
  if (button && list.contains(button)) {
    event.preventDefault();
    toggleMenu(button, false);
  }
}

function onKey(event) {
  const button = event.target.closest ? event.target.closest(".scc-menu-button") : null;
  if (button && (event.key === "ArrowDown" || event.key === "ArrowUp")) {
    event.preventDefault();
    event.stopPropagation();
    toggleMenu(button, event.key === "ArrowUp");
  }
}

/* Long press on a touch screen opens the menu too. */
function onTouch(event) {
  const node = event.pointerType === "touch" && event.target.closest ? messageOf(event.target) : null;
  const button = node && $(".scc-menu-button", node);
  if (!button) {
    return;
  }
  const timer = setTimeout(function () {
    toggleMenu(button, false);
  }, 500);
  const cancel = function () {
    clearTimeout(timer);
  };
  node.addEventListener("pointerup", cancel, { once: true });
  node.addEventListener("pointercancel", cancel, { once: true });
  node.addEventListener("pointermove", cancel, { once: true });
}

/* Bind the pane's list (at load, and each time the shell swaps a room in). */
function bind() {
  if (list) {
    list.addEventListener("click", onClick);
    list.addEventListener("keydown", onKey);
    list.addEventListener("pointerdown", onTouch);
  }
}

export function init() {
  initMenu();
  on("room:open", bind);
  bind();
}
