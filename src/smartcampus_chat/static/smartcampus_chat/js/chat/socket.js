/*
 * The socket and its protocol (docs/protocol.md): connect, dispatch frames to the handler
 * of their type, resume by event_seq, ping, reconnect with backoff.
 *
 * Authentication is the page's session cookie; clients without one use tickets
 * (docs/api.md) and are not this client.
 */

import { emit } from "./bus.js";
import { FATAL_CLOSE, showBanner, t } from "./i18n.js";
import { config, roomSlug } from "./page.js";

const PROTOCOL_VERSION = 1;
// A socket that stayed open this long was serving: its drop starts the backoff again.
// One the server closes sooner (too many sockets or resumes, too slow, unavailable) keeps
// backing off, or every tab would reconnect twice a second while the refusal lasts.
const STABLE_MS = 10000;
const PING_MS = 25000;

const lastEventSeq = {}; // room slug -> highest event_seq applied
const replaying = {}; // room slug -> true while a resume is running
// room slug -> event_seq an unfinished resume asked from: lastEventSeq already went past a
// gap, so a reconnect replays from here until a "resumed" answers.
const resumeFrom = {};
const resumes = {}; // frame id -> {room, since} of a resume waiting for its answer
let handlers = {}; // frame type -> handler, given by start()
let socket = null;
let attempts = 0;
let openedAt = 0;
// 4001 on a socket that was in: its session may only have been renewed by this very
// browser (a password change here rotates the session key, update_session_auth_hash), so
// one reconnect with the current cookie decides; a second 4001 in a row is final.
let authRetried = false;
let stopped = false;
let frameCounter = 0;
let pingTimer = null;
let retryTimer = null;

if (roomSlug) {
  lastEventSeq[roomSlug] = Number(config.lastEventSeq || 0);
}

function socketUrl() {
  const scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
  let query = "?v=" + PROTOCOL_VERSION;
  if (roomSlug) {
    const since = roomSlug in resumeFrom ? resumeFrom[roomSlug] : lastEventSeq[roomSlug];
    query += "&event_seq=" + (since || 0);
    replaying[roomSlug] = true;
  }
  return scheme + window.location.host + config.wsUrl + query;
}

/* The connection is lost: say so, and try again after the next backoff step. */
function lost() {
  clearInterval(pingTimer);
  showBanner(t("reconnecting"));
  // Exponential backoff with jitter: 0.5 s, 1 s, 2 s… up to 30 s, times 0.5–1.5.
  const delay = Math.min(30000, 500 * Math.pow(2, attempts)) * (0.5 + Math.random());
  attempts += 1;
  clearTimeout(retryTimer);
  retryTimer = setTimeout(connect, delay);
}

/* Give up on the current socket at once, without waiting for its closing handshake: when
   the network is gone, the server's close frame and our own may only arrive once it is
   back (Chromium holds every frame of an offline page, and a close frame queued behind
   them), so the socket would look open, pending messages stuck, with no banner. Frames
   that still come on an abandoned socket are ignored: the next socket resumes from
   lastEventSeq and re-sends the pending messages (a retry of a client_id is stored once). */
function abandon() {
  const old = socket;
  if (!old) {
    return;
  }
  socket = null;
  if (openedAt && Date.now() - openedAt >= STABLE_MS) {
    attempts = 0; // It had stayed open: this loss starts the backoff over.
  }
  openedAt = 0;
  try {
    old.close(1000);
  } catch (err) {
    // Already closing: nothing more to do with it.
  }
  lost();
}

function dispatch(frame) {
  const handler = Object.prototype.hasOwnProperty.call(handlers, frame.type) ? handlers[frame.type] : null;
  if (handler) {
    handler(frame);
  }
}

function connect() {
  clearTimeout(retryTimer);
  retryTimer = null;
  if (stopped || socket) {
    return;
  }
  const ws = new WebSocket(socketUrl());
  socket = ws;
  ws.addEventListener("open", function () {
    if (ws !== socket) {
      return;
    }
    openedAt = Date.now();
    showBanner(null);
    clearInterval(pingTimer);
    pingTimer = setInterval(function () {
      send({ type: "ping" });
    }, PING_MS);
    emit("open");
  });
  ws.addEventListener("message", function (event) {
    if (ws !== socket) {
      return;
    }
    let frame;
    try {
      frame = JSON.parse(event.data);
    } catch (err) {
      return;
    }
    dispatch(frame);
  });
  ws.addEventListener("close", function (event) {
    if (ws !== socket) {
      return; // abandoned earlier: lost() already ran for it
    }
    socket = null;
    if (openedAt && Date.now() - openedAt >= STABLE_MS) {
      attempts = 0;
      authRetried = false;
    }
    openedAt = 0;
    let fatal = FATAL_CLOSE[event.code];
    if (event.code === 4001 && !authRetried) {
      authRetried = true;
      fatal = null;
    }
    if (fatal) {
      clearInterval(pingTimer);
      stopped = true;
      showBanner(t(fatal));
      return;
    }
    lost();
  });
}

/** Send a frame if the socket is open; false when it is not (the reconnect catches up). */
export function send(frame) {
  if (socket && socket.readyState === WebSocket.OPEN) {
    socket.send(JSON.stringify(frame));
    return true;
  }
  return false;
}

/** A fresh frame id: the server's ack or error names it. */
export function nextId() {
  frameCounter += 1;
  return frameCounter;
}

// Ask for a room's changes after `since`. A refused one (error rate_limited or unavailable)
// is asked again from the same `since` (resumeRefused): a gap has already moved
// lastEventSeq past the changes it lacks.
function requestResume(room, since) {
  const id = nextId();
  replaying[room] = true;
  resumeFrom[room] = since;
  if (send({ type: "resume", room: room, event_seq: since, id: id })) {
    resumes[id] = { room: room, since: since };
  } else {
    replaying[room] = false; // not connected: the reconnect resumes
  }
}

/** Note a room change's event_seq; a gap (a live frame lost on the way) asks for a resume. */
export function noteEventSeq(room, eventSeq) {
  const last = lastEventSeq[room] || 0;
  if (!replaying[room] && eventSeq > last + 1 && room in lastEventSeq) {
    requestResume(room, last);
  }
  if (eventSeq > last) {
    lastEventSeq[room] = eventSeq;
  }
}

/** Follow a room added live from its current event_seq. */
export function followRoom(room, eventSeq) {
  lastEventSeq[room] = lastEventSeq[room] || eventSeq;
}

/** The "resumed" frame: the replay is over (or continues, when truncated). */
export function onResumed(frame) {
  replaying[frame.room] = false;
  delete resumeFrom[frame.room];
  lastEventSeq[frame.room] = Math.max(lastEventSeq[frame.room] || 0, frame.event_seq);
  delete resumes[frame.id];
  if (frame.truncated) {
    requestResume(frame.room, frame.event_seq);
  }
}

/** An error answering one of our resumes: rate_limited and unavailable are asked again
    from the same number after retry_after (unavailable without one: a reconnect-like
    backoff step); any other refusal ends the replay. */
export function resumeRefused(frame) {
  const resume = frame.id == null ? undefined : resumes[frame.id];
  if (resume === undefined) {
    return false;
  }
  delete resumes[frame.id];
  if (frame.code === "rate_limited" || frame.code === "unavailable") {
    const fallback = frame.code === "rate_limited" ? 1 : 0.5 + Math.random();
    setTimeout(function () {
      if (resumeFrom[resume.room] === resume.since) {
        requestResume(resume.room, resume.since); // (a reconnect's replay may have done it)
      }
    }, Math.ceil((frame.retry_after || fallback) * 1000));
  } else {
    replaying[resume.room] = false; // the room is gone for us (forbidden, not_found)
    delete resumeFrom[resume.room];
  }
  return true;
}

/** Connect, and stay connected across network changes, until the page goes. */
export function start(frameHandlers) {
  handlers = frameHandlers;
  window.addEventListener("offline", abandon);
  window.addEventListener("online", function () {
    // Connect at once, not at the next backoff step, and start the backoff over. An attempt
    // still opening was made while offline: it may hang or fail, so it is dropped too.
    if (stopped || (socket && socket.readyState === WebSocket.OPEN)) {
      return;
    }
    attempts = 0;
    if (socket) {
      abandon();
    }
    connect();
  });
  window.addEventListener("pagehide", function () {
    stopped = true;
    if (socket) {
      socket.close(1000);
    }
  });
  connect();
}
