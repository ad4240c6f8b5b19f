/*
 * Replying: "Reply" in a message's menu (actions.js) puts a "Replying to <name>" bar over
 * the composer, with the parent's excerpt and a button (or Esc) to cancel; the next
 * message sent carries `reply_to` (composer.js takes it). Switching rooms drops it.
 */

import { on } from "./bus.js";
import { plainText } from "./format.js";
import { announce, format, t } from "./i18n.js";
import { $ } from "./page.js";

let target = null; // {id, bar}

function textarea() {
  return $("#composer textarea[name=content]");
}

/** Drop the reply being written (the bar goes). */
export function cancelReply() {
  if (target) {
    target.bar.remove();
    target = null;
  }
}

/** The id the next message answers, taken (the bar goes), or null. */
export function takeReply() {
  const id = target ? target.id : null;
  cancelReply();
  return id;
}

/** Reply to message `node`: show the bar over the composer and focus the composer. */
export function startReply(node) {
  const box = textarea();
  if (!box || box.disabled) {
    return;
  }
  cancelReply();
  const name = $(".scc-author", node).textContent;
  const content = $(".scc-content", node);
  const bar = document.createElement("div");
  bar.className = "scc-replying";
  const label = document.createElement("span");
  label.className = "scc-replying-label";
  label.textContent = format(t("replyingTo"), { name: name });
  const excerpt = document.createElement("span");
  excerpt.className = "scc-replying-excerpt";
  excerpt.textContent = content ? plainText(content) : "";
  const cancel = document.createElement("button");
  cancel.type = "button";
  cancel.className = "btn btn-sm btn-link scc-replying-cancel";
  cancel.setAttribute("aria-label", t("cancelReply"));
  const icon = document.createElement("span");
  icon.className = "bi bi-x-lg";
  icon.setAttribute("aria-hidden", "true");
  cancel.appendChild(icon);
  cancel.addEventListener("click", function () {
    cancelReply();
    box.focus();
  });
  bar.append(label, excerpt, cancel);
  box.closest("form").prepend(bar);
  target = { id: Number(node.getAttribute("data-id")), bar: bar };
  announce(label.textContent);
  box.focus();
}

export function init() {
  document.addEventListener("keydown", function (event) {
    if (target && event.key === "Escape" && event.target === textarea()) {
      cancelReply();
    }
  });
  on("room:open", cancelReply);
}
