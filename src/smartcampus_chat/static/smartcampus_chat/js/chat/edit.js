/*
 * Inline editing: the message's text becomes a textarea in place. Enter saves (Shift+Enter
 * is a new line), Esc cancels; the focus then goes back where the edit started (the
 * message, or the composer for ↑ in an empty composer). The text is put in the textarea
 * as its value and shown again with textContent only.
 */

import { t } from "./i18n.js";
import { $, roomSlug } from "./page.js";
import { nextId, send } from "./socket.js";

/** A small Bootstrap button of `variant` (e.g. "btn-danger") labelled `label`. */
export function smallButton(label, variant) {
  const element = document.createElement("button");
  element.type = "button";
  element.className = "btn btn-sm " + variant;
  element.textContent = label;
  return element;
}

/** Edit message `node` in place; `returnTo` gets the focus back afterwards. */
export function startEdit(node, returnTo) {
  const content = node && $(".scc-content", node);
  if (!content || node.classList.contains("scc-deleted")) {
    return;
  }
  const open = $(".scc-edit textarea", node);
  if (open) {
    open.focus();
    return;
  }
  const original = node.getAttribute("data-source") || content.textContent;
  const editor = document.createElement("div");
  editor.className = "scc-edit";
  const textarea = document.createElement("textarea");
  textarea.className = "form-control form-control-sm";
  textarea.rows = Math.min(8, Math.max(2, original.split("\n").length));
  textarea.setAttribute("aria-label", t("editPrompt"));
  textarea.value = original;
  const hint = document.createElement("div");
  hint.className = "scc-edit-hint small";
  hint.textContent = t("editHint");
  hint.id = "scc-edit-hint-" + node.getAttribute("data-id");
  textarea.setAttribute("aria-describedby", hint.id);
  const row = document.createElement("div");
  row.className = "d-flex flex-wrap align-items-center gap-2 mt-1";
  const cancel = smallButton(t("cancel"), "btn-outline-secondary scc-edit-cancel");
  const save = smallButton(t("save"), "scc-btn-primary scc-edit-save");
  row.appendChild(hint);
  row.appendChild(cancel);
  row.appendChild(save);
  editor.appendChild(textarea);
  editor.appendChild(row);
  content.hidden = true;
  content.parentNode.insertBefore(editor, content.nextSibling);
  node.classList.add("scc-editing");

  function finish() {
    editor.remove();
    content.hidden = false;
    node.classList.remove("scc-editing");
    (returnTo && returnTo.isConnected ? returnTo : node).focus();
  }

  function submit() {
    const text = textarea.value.trim();
    if (!text || text === original.trim()) {
      finish();
      return;
    }
    const id = Number(node.getAttribute("data-id"));
    if (send({ type: "message.edit", room: roomSlug, message_id: id, content: text, id: nextId() })) {
      content.textContent = text; // the message.edited frame brings it formatted
      content.classList.add("scc-text");
      finish();
    }
  }

  textarea.addEventListener("keydown", function (event) {
    event.stopPropagation(); // the list's arrow keys and shortcuts stay out of the editor
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submit();
    } else if (event.key === "Escape") {
      event.preventDefault();
      finish();
    }
  });
  cancel.addEventListener("click", finish);
  save.addEventListener("click", submit);
  textarea.focus();
  textarea.setSelectionRange(textarea.value.length, textarea.value.length);
}
