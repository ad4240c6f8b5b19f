/*
 * The retention purge (docs/retention.md): messages deleted for good leave the open room.
 * A `messages.purged` frame names them (every message numbered up to `through_seq`, and
 * the numbers in `seqs`); a `resumed` frame carries the room's watermark
 * (`purged_through_seq`) and `gap`: a message changed while the client was away was
 * purged since, which no replay can name, so the room's pane is loaded again.
 * Replies to a purged message lose their quote, as a fresh page shows them.
 */

import { on } from "./bus.js";
import { $$, roomSlug } from "./page.js";
import { list } from "./messages.js";
import { dropPinned } from "./pins.js";
import { reloadPane } from "./router.js";
import { decorate } from "./timeline.js";

/* Drop from the open room what `isPurged(seq)` says is gone. */
function drop(isPurged) {
  if (!list) {
    return;
  }
  let removed = false;
  $$("li.scc-message[data-seq]", list).forEach(function (node) {
    if (node.classList.contains("scc-pending") || node.classList.contains("scc-failed")) {
      return;
    }
    if (!isPurged(Number(node.getAttribute("data-seq")))) {
      return;
    }
    node.remove();
    removed = true;
  });
  // Quotes of purged parents, on the page or not (older than what it shows).
  $$(".scc-reply[data-reply-seq]", list).forEach(function (quote) {
    if (isPurged(Number(quote.getAttribute("data-reply-seq")))) {
      quote.hidden = true;
      quote.removeAttribute("data-reply-to");
      quote.removeAttribute("data-reply-seq");
    }
  });
  dropPinned(isPurged);
  if (removed) {
    decorate(list);
  }
}

function purgedBy(throughSeq, seqs) {
  const named = new Set(seqs || []);
  return function (seq) {
    return seq <= throughSeq || named.has(seq);
  };
}

/** messages.purged: the open room drops the messages it names. */
export function onPurged(frame) {
  if (frame.room === roomSlug) {
    drop(purgedBy(Number(frame.through_seq) || 0, frame.seqs));
  }
}

function onResumed(detail) {
  const frame = detail.frame;
  if (frame.room !== roomSlug) {
    return;
  }
  if (frame.gap) {
    reloadPane();
    return;
  }
  if (frame.purged_through_seq) {
    drop(purgedBy(Number(frame.purged_through_seq), []));
  }
}

export function init() {
  on("resumed", onResumed);
}
