/*
 * The sockets and their protocol (docs/protocol.md): connect, dispatch frames to the handler
 * of their type, resume by event_seq, ping, reconnect with backoff.
 *
 * The shell keeps ONE all-rooms socket (config.wsUrl, ws/chat/): the sidebar and every room
 * the user joined, the open one included; switching to a joined room costs a `resume` frame,
 * no new socket. Only while the open room is one the user has not joined (a public room read
 * before joining) does a second socket follow it (config.roomWsUrl, ws/chat/<slug>/), closed
 * when the reader moves on (docs/frontend.md, "The shell": memory per user measured).
 *
 * Authentication is the page's session cookie; clients without one use tickets
 * (docs/api.md) and are not this client.
 */

import { emit } from "./bus.js";
import { Connection } from "./connection.js";
import { config, roomSlug } from "./page.js";

const PROTOCOL_VERSION = 1;

const lastEventSeq = {}; // room slug -> highest event_seq applied
const replaying = {}; // room slug -> true while a resume is running
// room slug -> event_seq an unfinished resume asked from: lastEventSeq already went past a
// gap, so a reconnect replays from here until a "resumed" answers.
const resumeFrom = {};
const resumes = {}; // frame id -> {room, since} of a resume waiting for its answer
let handlers = {}; // frame type -> handler, given by start()
let frameCounter = 0;
let started = false;
let main = null; // the all-rooms connection
let roomConnection = null; // the open room's own connection, when it is not joined

function socketUrl(room) {
  const scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
  let query = "?v=" + PROTOCOL_VERSION;
  if (room) {
    const since = room in resumeFrom ? resumeFrom[room] : lastEventSeq[room];
    query += "&event_seq=" + (since || 0);
    replaying[room] = true;
  }
  return scheme + window.location.host + (room ? config.roomWsUrl : config.wsUrl) + query;
}

function opened(connection) {
  if (connection === main) {
    resumeOpenRoom();
  }
  emit("open");
}

function newConnection(room) {
  return new Connection(room, socketUrl, opened, dispatch);
}

function dispatch(frame) {
  const handler = Object.prototype.hasOwnProperty.call(handlers, frame.type) ? handlers[frame.type] : null;
  if (handler) {
    handler(frame);
  }
}

function connectionFor(room) {
  return roomConnection && room && room === roomConnection.room ? roomConnection : main;
}

/** Send a frame on the socket that follows its room; false when it is not open (the
    reconnect catches up). */
export function send(frame) {
  const connection = connectionFor(frame.room);
  return !!connection && connection.send(frame);
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

/* The all-rooms socket (re)opened: the open room, if it follows it, catches up. */
function resumeOpenRoom() {
  if (roomSlug && config.joined && !roomConnection) {
    requestResume(roomSlug, roomSlug in resumeFrom ? resumeFrom[roomSlug] : lastEventSeq[roomSlug] || 0);
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

/** The "resumed" frame: the replay is over (or continues, when truncated). Its purge
    marks go to purges.js ("resumed" on the bus). */
export function onResumed(frame) {
  emit("resumed", { frame: frame });
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

/* Follow the open room (page.js's roomSlug, config of its pane): from the pane's own
   counter, which the server read before rendering its history, so nothing between the
   render and now is missed; what the pane already shows is ignored by id. */
function followOpenRoom() {
  if (!roomSlug) {
    return;
  }
  lastEventSeq[roomSlug] = Number(config.lastEventSeq || 0);
  delete resumeFrom[roomSlug];
  replaying[roomSlug] = false;
  if (config.joined) {
    if (main && main.isOpen()) {
      resumeOpenRoom();
    }
  } else {
    roomConnection = newConnection(roomSlug);
    roomConnection.connect();
  }
}

/** The reader is leaving the open room (before page.js names the next one): its own
    socket closes; the all-rooms socket stays. */
export function leaveRoom() {
  if (roomConnection) {
    roomConnection.stop();
    roomConnection = null;
  }
  if (roomSlug) {
    // Not followed for gaps while closed: reopening starts again from its pane's counter.
    delete lastEventSeq[roomSlug];
    delete resumeFrom[roomSlug];
    replaying[roomSlug] = false;
  }
}

/** The next room is open (page.js names it): follow it. */
export function enterRoom() {
  if (started) {
    followOpenRoom();
  }
}

/** The user joined the open room (room.added): the all-rooms socket follows it now. The
    room's own socket, if any, stays until the reader leaves (frames arriving on both are
    applied once: by id and event_seq). */
export function joinedOpenRoom() {
  config.joined = true;
}

function every(callback) {
  [main, roomConnection].forEach(function (connection) {
    if (connection) {
      callback(connection);
    }
  });
}

/** Connect, and stay connected across network changes, until the page goes. */
export function start(frameHandlers) {
  handlers = frameHandlers;
  started = true;
  window.addEventListener("offline", function () {
    every(function (connection) {
      connection.abandon();
    });
  });
  window.addEventListener("online", function () {
    // Connect at once, not at the next backoff step, and start the backoff over. An attempt
    // still opening was made while offline: it may hang or fail, so it is dropped too.
    every(function (connection) {
      if (connection.stopped || connection.isOpen()) {
        return;
      }
      connection.attempts = 0;
      if (connection.socket) {
        connection.abandon();
      }
      connection.connect();
    });
  });
  window.addEventListener("pagehide", function () {
    every(function (connection) {
      connection.stop();
    });
  });
  main = newConnection(null);
  if (roomSlug && config.joined) {
    lastEventSeq[roomSlug] = Number(config.lastEventSeq || 0);
  }
  main.connect();
  if (roomSlug && !config.joined) {
    followOpenRoom();
  }
}
