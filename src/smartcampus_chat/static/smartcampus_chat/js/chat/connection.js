/*
 * One WebSocket endpoint kept open: a socket at a time, reconnected with backoff, pinged,
 * given up at once when the browser goes offline, stopped for good by its owner
 * (socket.js, which holds the shell's connections and the protocol's resume logic).
 */

import { emit } from "./bus.js";
import { FATAL_CLOSE, showBanner, t } from "./i18n.js";

// A socket that stayed open this long was serving: its drop starts the backoff again.
// One the server closes sooner (too many sockets or resumes, too slow, unavailable) keeps
// backing off, or every tab would reconnect twice a second while the refusal lasts.
const STABLE_MS = 10000;
const PING_MS = 25000;

/* The all-rooms socket's state on <html data-scc-socket>: "connecting", "open" or "closed"
   (for styles, and for tests that must wait until the page is live). */
function mark(connection, state) {
  if (connection.room === null) {
    document.documentElement.setAttribute("data-scc-socket", state);
  }
}

/* A connection to `room`'s endpoint (null: the all-rooms one) at the address `url(room)`;
   `onOpen(connection)` runs when a socket opens, `onFrame(frame)` for each frame. */
export function Connection(room, url, onOpen, onFrame) {
  this.room = room;
  this.makeUrl = url;
  this.onOpen = onOpen;
  this.onFrame = onFrame;
  this.socket = null;
  this.attempts = 0;
  this.openedAt = 0;
  // 4001 on a socket that was in: its session may only have been renewed by this very
  // browser (a password change here rotates the session key, update_session_auth_hash), so
  // one reconnect with the current cookie decides; a second 4001 in a row is final.
  this.authRetried = false;
  this.stopped = false;
  this.pingTimer = null;
  this.retryTimer = null;
}

/* The connection is lost: say so, and try again after the next backoff step. */
Connection.prototype.lost = function () {
  clearInterval(this.pingTimer);
  mark(this, "connecting");
  showBanner(t("reconnecting"));
  // Exponential backoff with jitter: 0.5 s, 1 s, 2 s… up to 30 s, times 0.5–1.5.
  const delay = Math.min(30000, 500 * Math.pow(2, this.attempts)) * (0.5 + Math.random());
  this.attempts += 1;
  // Pending messages show as failed after a few attempts in a row (composer.js).
  emit("lost", { attempts: this.attempts });
  clearTimeout(this.retryTimer);
  const self = this;
  this.retryTimer = setTimeout(function () {
    self.connect();
  }, delay);
};

/* Give up on the current socket at once, without waiting for its closing handshake: when
   the network is gone, the server's close frame and our own may only arrive once it is
   back (Chromium holds every frame of an offline page, and a close frame queued behind
   them), so the socket would look open, pending messages stuck, with no banner. Frames
   that still come on an abandoned socket are ignored: the next socket resumes from
   lastEventSeq and re-sends the pending messages (a retry of a client_id is stored once). */
Connection.prototype.abandon = function () {
  const old = this.socket;
  if (!old) {
    return;
  }
  this.socket = null;
  if (this.openedAt && Date.now() - this.openedAt >= STABLE_MS) {
    this.attempts = 0; // It had stayed open: this loss starts the backoff over.
  }
  this.openedAt = 0;
  try {
    old.close(1000);
  } catch (err) {
    // Already closing: nothing more to do with it.
  }
  this.lost();
};

/* Close for good (the reader left the room this connection followed, or the page). */
Connection.prototype.stop = function () {
  this.stopped = true;
  mark(this, "closed");
  clearInterval(this.pingTimer);
  clearTimeout(this.retryTimer);
  const old = this.socket;
  this.socket = null;
  if (old) {
    try {
      old.close(1000);
    } catch (err) {
      // Already closing.
    }
  }
};

Connection.prototype.isOpen = function () {
  return !!this.socket && this.socket.readyState === WebSocket.OPEN;
};

Connection.prototype.send = function (frame) {
  if (this.isOpen()) {
    this.socket.send(JSON.stringify(frame));
    return true;
  }
  return false;
};

Connection.prototype.connect = function () {
  clearTimeout(this.retryTimer);
  this.retryTimer = null;
  if (this.stopped || this.socket) {
    return;
  }
  const self = this;
  const ws = new WebSocket(this.makeUrl(this.room));
  this.socket = ws;
  mark(this, "connecting");
  ws.addEventListener("open", function () {
    if (ws !== self.socket) {
      return;
    }
    self.openedAt = Date.now();
    mark(self, "open");
    showBanner(null);
    clearInterval(self.pingTimer);
    self.pingTimer = setInterval(function () {
      self.send({ type: "ping" });
    }, PING_MS);
    self.onOpen(self);
  });
  ws.addEventListener("message", function (event) {
    if (ws !== self.socket) {
      return;
    }
    let frame;
    try {
      frame = JSON.parse(event.data);
    } catch (err) {
      return;
    }
    self.onFrame(frame);
  });
  ws.addEventListener("close", function (event) {
    if (ws !== self.socket) {
      return; // abandoned or stopped earlier
    }
    self.socket = null;
    if (self.openedAt && Date.now() - self.openedAt >= STABLE_MS) {
      self.attempts = 0;
      self.authRetried = false;
    }
    self.openedAt = 0;
    let fatal = FATAL_CLOSE[event.code];
    if (event.code === 4001 && !self.authRetried) {
      self.authRetried = true;
      fatal = null;
    }
    if (fatal) {
      clearInterval(self.pingTimer);
      self.stopped = true;
      mark(self, "closed");
      showBanner(t(fatal));
      emit("stopped", { reason: fatal });
      return;
    }
    self.lost();
  });
};

