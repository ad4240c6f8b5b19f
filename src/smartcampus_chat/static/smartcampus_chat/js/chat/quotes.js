/*
 * A reply's quote of the message it answers (`message.reply`, docs/protocol.md "Replies"):
 * "↩ author excerpt" above the reply's text, a link to the parent. When the parent is on
 * the page, following it scrolls to it, highlights and focuses it; otherwise the link
 * loads the page of history that starts with it. Quotes follow their parent live: an edit
 * or a delete of the parent updates them (the same rule as the server's excerpt).
 */

import { emit } from "./bus.js";
import { excerptOf } from "./format.js";
import { authorName, t } from "./i18n.js";
import { $, $$ } from "./page.js";

function fillQuote(quote, reply) {
  $(".scc-reply-author", quote).textContent = authorName(reply);
  $(".scc-reply-excerpt", quote).textContent = reply.is_deleted ? t("message_deleted") : reply.excerpt || "";
  quote.classList.toggle("scc-reply-deleted", !!reply.is_deleted);
}

/** Show (or hide) the quote of message `node` from its payload's `reply`. */
export function showQuote(node, message) {
  const quote = $(".scc-reply", node);
  if (!quote) {
    return;
  }
  const reply = message.reply;
  quote.hidden = !reply;
  if (!reply) {
    quote.removeAttribute("data-reply-to");
    quote.removeAttribute("data-reply-seq");
    return;
  }
  quote.setAttribute("data-reply-to", String(reply.id));
  quote.setAttribute("data-reply-seq", String(Number(reply.seq)));
  quote.setAttribute("href", "?after=" + String(Math.max(0, reply.seq - 1)) + "#message-" + String(reply.id));
  fillQuote(quote, reply);
}

/** `message` changed (message.edited / message.deleted): its replies' quotes follow. */
export function refreshQuotes(message) {
  $$('.scc-reply[data-reply-to="' + String(Number(message.id)) + '"]').forEach(function (quote) {
    fillQuote(quote, {
      kind: message.kind,
      sender: message.sender,
      anonymous: !!message.anonymous,
      is_deleted: message.is_deleted,
      excerpt: message.is_deleted ? null : excerptOf(message.content_html),
    });
  });
}

function follow(event) {
  const quote = event.target.closest && event.target.closest(".scc-reply[data-reply-to]");
  const parent = quote && document.getElementById("message-" + quote.getAttribute("data-reply-to"));
  if (!parent || !parent.matches("#message-list li.scc-message")) {
    return; // not on the page: the link loads the history that starts with it
  }
  event.preventDefault();
  parent.scrollIntoView({ block: "center" });
  parent.classList.remove("scc-flash");
  void parent.offsetWidth; // restart the highlight's animation
  parent.classList.add("scc-flash");
  emit("message:focus", { node: parent });
}

export function init() {
  document.addEventListener("click", follow);
}
