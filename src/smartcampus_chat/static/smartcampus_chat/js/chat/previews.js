/*
 * Link previews (docs/protocol.md, "Link previews"): the card under a message for its first
 * link, from `message.preview` (message.preview frames bring it when the server has fetched
 * the page, and its removal). Everything in the card came from a page someone else wrote:
 * it is only ever set as text (textContent) or as attributes the card controls, never as
 * HTML. The author's "Remove preview" button sends preview.remove.
 */

import { announce, t } from "./i18n.js";
import { $, isMe, roomSlug, textSpan } from "./page.js";
import { nextId, send } from "./socket.js";

function isWebUrl(url) {
  return typeof url === "string" && /^https?:\/\//i.test(url);
}

function card(message) {
  const preview = message.preview;
  const link = document.createElement("a");
  link.className = "scc-link-preview-link";
  link.href = preview.url;
  link.target = "_blank";
  link.rel = "noopener nofollow ugc";
  if (preview.image_url && preview.image_url.charAt(0) === "/") {
    const image = document.createElement("img");
    image.className = "scc-link-preview-image";
    image.src = preview.image_url;
    image.alt = "";
    image.loading = "lazy";
    image.width = Number(preview.image_width) || 0;
    image.height = Number(preview.image_height) || 0;
    link.appendChild(image);
  }
  const text = document.createElement("span");
  text.className = "scc-link-preview-text";
  if (preview.site_name) {
    text.appendChild(textSpan("scc-link-preview-site", preview.site_name));
  }
  text.appendChild(textSpan("scc-link-preview-title", preview.title || preview.url));
  if (preview.description) {
    text.appendChild(textSpan("scc-link-preview-description", preview.description));
  }
  link.appendChild(text);
  const parts = [link];
  if (isMe(message.sender)) {
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "scc-link-preview-remove btn btn-link btn-sm";
    remove.title = t("removePreview");
    remove.setAttribute("aria-label", t("removePreview"));
    remove.appendChild(textSpan("bi bi-x-lg", ""));
    remove.firstChild.setAttribute("aria-hidden", "true");
    parts.push(remove);
  }
  return parts;
}

/** Show the link preview of message `node` from its payload (none: the card is hidden). */
export function showPreview(node, message) {
  const box = $(".scc-link-preview", node);
  if (!box) {
    return;
  }
  const shown = !message.is_deleted && !!message.preview && isWebUrl(message.preview.url);
  box.replaceChildren(...(shown ? card(message) : []));
  box.hidden = !shown;
}

function remove(node) {
  const frame = {
    type: "preview.remove",
    room: roomSlug,
    message_id: Number(node.getAttribute("data-id")),
    id: nextId(),
  };
  if (!send(frame)) {
    announce(t("previewNotRemoved"));
  }
}

export function init() {
  document.addEventListener("click", function (event) {
    const button = event.target.closest && event.target.closest("#message-list .scc-link-preview-remove");
    const node = button && button.closest("li.scc-message[data-id]");
    if (node) {
      remove(node);
    }
  });
}
