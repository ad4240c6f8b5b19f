/*
 * Read markers: on a room page, the newest message shown is marked read while the page is
 * visible. A read marker is a database write: in a busy room each reader sends at most one
 * per READ_INTERVAL_MS (the newest seen when it goes), not one per message received.
 */

import { on } from "./bus.js";
import { config, roomSlug } from "./page.js";
import { nextId, send } from "./socket.js";

const READ_INTERVAL_MS = 2000;

let maxSeqSeen = Number(config.lastSeq || 0);
let readSeqSent = 0;
let readFrameId = null; // id of the last read frame: a refusal names it
let readSentAt = 0;
let readTimer = null;

function markRead() {
  if (!roomSlug || document.visibilityState !== "visible" || maxSeqSeen <= readSeqSent) {
    return;
  }
  const wait = readSentAt + READ_INTERVAL_MS - Date.now();
  if (wait > 0) {
    if (!readTimer) {
      readTimer = setTimeout(function () {
        readTimer = null;
        markRead();
      }, wait);
    }
    return;
  }
  const id = nextId();
  if (send({ type: "read", room: roomSlug, seq: maxSeqSeen, id: id })) {
    readFrameId = id;
    readSeqSent = maxSeqSeen;
    readSentAt = Date.now();
  }
}

/** An error answering our read marker. Many room pages opened quickly (READ_RATE_*): send
    the marker again once allowed, or the room stays unread; nothing to announce. */
export function readRefused(frame) {
  if (frame.id == null || frame.id !== readFrameId || frame.code !== "rate_limited") {
    return false;
  }
  readFrameId = null;
  readSeqSent = 0;
  readSentAt = Date.now() + Math.ceil((frame.retry_after || 1) * 1000) - READ_INTERVAL_MS;
  markRead();
  return true;
}

/* Leaving a room: what was seen there and not yet marked is marked now (a marker waiting
   for the interval would otherwise be dropped by a quick switch, and the room stay
   unread). The interval is per room: the next room's marker goes at once. */
function flush(detail) {
  clearTimeout(readTimer);
  readTimer = null;
  if (detail.slug && maxSeqSeen > readSeqSent && document.visibilityState === "visible") {
    send({ type: "read", room: detail.slug, seq: maxSeqSeen, id: nextId() });
  }
}

export function init() {
  on("open", markRead);
  on("room:close", flush);
  // Another room's pane: start from its newest message shown, and mark it read.
  on("room:open", function () {
    maxSeqSeen = Number(config.lastSeq || 0);
    readSeqSent = 0;
    readSentAt = 0;
    readFrameId = null;
    markRead();
  });
  on("shown", function (detail) {
    maxSeqSeen = Math.max(maxSeqSeen, detail.seq);
    markRead();
  });
  document.addEventListener("visibilitychange", markRead);
}
