/*
 * Edit and delete (the [data-action] buttons of a message): done over the socket; the
 * server's message.edited / message.deleted frames update the list.
 */

import { t } from "./i18n.js";
import { list } from "./messages.js";
import { $, roomSlug } from "./page.js";
import { nextId, send } from "./socket.js";

function onClick(event) {
  const button = event.target.closest ? event.target.closest("[data-action]") : null;
  const node = button && button.closest("li.scc-message[data-id]");
  if (!node) {
    return;
  }
  event.preventDefault();
  const id = Number(node.getAttribute("data-id"));
  const action = button.getAttribute("data-action");
  if (action === "edit") {
    const current = $(".scc-content", node);
    const edited = window.prompt(t("editPrompt"), current ? current.textContent : "");
    if (edited !== null && edited.trim()) {
      send({ type: "message.edit", room: roomSlug, message_id: id, content: edited, id: nextId() });
    }
  } else if (action === "delete") {
    if (window.confirm(t("confirm_delete"))) {
      send({ type: "message.delete", room: roomSlug, message_id: id, id: nextId() });
    }
  }
}

export function init() {
  if (list) {
    list.addEventListener("click", onClick);
  }
}
