/*
 * Anonymous-to-classmates posts (docs/anonymous-posts.md). Where the room allows it, a
 * student's composer has "Post anonymously to classmates" (#composer [name=anonymous],
 * includes/composer.html) with the plain note that the teachers can reveal the name:
 * checked, the send carries `anonymous: true` (composer.js asks takeAnonymous) and no
 * typing frame goes out (typing.js asks isComposingAnonymously). The server names nobody
 * for such a post (sender null, `anonymous` true): it shows under "Anonymous classmate"
 * with a neutral icon and never joins its author's group. The author's own client knows
 * its posts from the acks and its own reads (`own`), kept in ownPosts for the broadcasts
 * that follow (edits, reactions). The room's moderators get "Reveal author" in the
 * message menu: a reason is asked for, message.reveal goes out, and message.revealed (to
 * this socket only) shows the name in a dialog. The reveal is audit-logged by the server.
 */

import { smallButton } from "./edit.js";
import { format, t } from "./i18n.js";
import { $, config, roomSlug } from "./page.js";
import { nextId, send } from "./socket.js";

/** Ids of the reader's own anonymous posts seen in this page (acks, own reads). */
const ownPosts = new Set();

/** Whether the reader's composer is set to post anonymously now. */
export function isComposingAnonymously() {
  const box = $("#composer [name=anonymous]");
  return !!(box && box.checked && config.canPostAnonymously);
}

/** The send option of the composer (null: a signed post). The box stays as it is: the
    reader chose to ask anonymously until they uncheck it. */
export function takeAnonymous() {
  return isComposingAnonymously() ? { anonymous: true } : null;
}

/** Whether `message` is one of the reader's own anonymous posts. */
export function isOwnAnonymous(message) {
  if (!message.anonymous) {
    return false;
  }
  if (message.own) {
    ownPosts.add(String(message.id));
  }
  return ownPosts.has(String(message.id));
}

/** Mark `node` (a message) anonymous or not: the class, the icon, the attribute. */
export function showAnonymous(node, message) {
  const anonymous = !!message.anonymous;
  node.classList.toggle("scc-anonymous", anonymous);
  node.toggleAttribute("data-anonymous", anonymous);
  const icon = $(".scc-anonymous-icon", node);
  if (icon) {
    icon.hidden = !anonymous;
  }
}

/** "Reveal author": the room's moderators, on an anonymous post still there. */
export function canReveal(node) {
  return !!config.canReveal && node.hasAttribute("data-anonymous") && !node.classList.contains("scc-deleted");
}

function dialogOf(titleText) {
  const dialog = document.createElement("dialog");
  dialog.className = "scc-dialog scc-reveal-dialog";
  dialog.setAttribute("aria-labelledby", "scc-reveal-title");
  const title = document.createElement("h2");
  title.id = "scc-reveal-title";
  title.className = "h6";
  title.textContent = titleText;
  dialog.appendChild(title);
  return dialog;
}

let returnFocus = null;

/** Ask for a reason, then send message.reveal for the message `node`. */
export function openReveal(node, button) {
  returnFocus = button;
  const dialog = dialogOf(t("revealTitle"));
  const form = document.createElement("form");
  form.method = "dialog";
  const label = document.createElement("label");
  label.className = "form-label small";
  label.setAttribute("for", "scc-reveal-reason");
  label.textContent = t("revealReason");
  const reason = document.createElement("textarea");
  reason.id = "scc-reveal-reason";
  reason.className = "form-control form-control-sm mb-2";
  reason.required = true;
  reason.maxLength = 500;
  reason.rows = 2;
  const buttons = document.createElement("div");
  buttons.className = "d-flex justify-content-end gap-2";
  const cancel = smallButton(t("cancel"), "btn-outline-secondary");
  const confirm = smallButton(t("revealConfirm"), "btn-danger");
  confirm.type = "submit";
  confirm.setAttribute("data-action", "confirm-reveal");
  buttons.append(cancel, confirm);
  form.append(label, reason, buttons);
  dialog.appendChild(form);
  cancel.addEventListener("click", function () {
    dialog.close();
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!reason.value.trim()) {
      reason.focus();
      return;
    }
    send({
      type: "message.reveal",
      room: roomSlug,
      message_id: Number(node.getAttribute("data-id")),
      reason: reason.value.trim(),
      id: nextId(),
    });
    dialog.close();
  });
  dialog.addEventListener("close", function () {
    dialog.remove();
  });
  (node.closest(".scc-room") || document.body).appendChild(dialog);
  dialog.showModal();
  reason.focus();
}

/** message.revealed (this socket only): the name, in a dialog. */
export function onRevealed(frame) {
  const dialog = dialogOf(t("revealAuthor"));
  const text = document.createElement("p");
  text.className = "scc-revealed-name";
  text.setAttribute("role", "status");
  text.textContent = frame.author ? format(t("revealedAs"), { name: frame.author.name }) : t("revealedGone");
  const buttons = document.createElement("div");
  buttons.className = "d-flex justify-content-end";
  const close = smallButton(t("close"), "btn-outline-secondary");
  buttons.appendChild(close);
  dialog.append(text, buttons);
  close.addEventListener("click", function () {
    dialog.close();
  });
  dialog.addEventListener("close", function () {
    dialog.remove();
    if (returnFocus && document.contains(returnFocus)) {
      returnFocus.focus();
    }
  });
  document.body.appendChild(dialog);
  dialog.showModal();
  close.focus();
}
