/*
 * smartcampus-chat real-time client. Plain JavaScript, no build step, no dependencies.
 *
 * Reads its configuration from <script id="scc-config" type="application/json"> and enhances
 * the markup described in docs/frontend.md. Speaks the protocol of docs/protocol.md.
 * User text is only ever inserted with textContent.
 */
(function () {
  "use strict";

  var configNode = document.getElementById("scc-config");
  if (!configNode) {
    return;
  }
  var config = JSON.parse(configNode.textContent || "{}");
  var i18n = config.i18n || {};
  var PROTOCOL_VERSION = 1;
  var FATAL_CLOSE = { 4001: "closedAuth", 4003: "closedForbidden", 4004: "closedGone", 4005: "closedVersion" };

  function t(key, fallback) {
    return typeof i18n[key] === "string" ? i18n[key] : fallback;
  }

  /* Fill Python-style "%(key)s" placeholders in one pass. A value is inserted as it is:
     never read as a replacement pattern ("$&", "$'") nor filled in turn ("%(other)s"). */
  function format(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (placeholder, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : placeholder;
    });
  }

  function $(selector, root) {
    return (root || document).querySelector(selector);
  }

  function $$(selector, root) {
    return Array.prototype.slice.call((root || document).querySelectorAll(selector));
  }

  function newClientId() {
    if (window.crypto && window.crypto.randomUUID) {
      return window.crypto.randomUUID();
    }
    return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 12);
  }

  var roomRoot = $(".scc-room[data-room]");
  var roomSlug = config.room || (roomRoot && roomRoot.getAttribute("data-room")) || null;
  var list = $("#message-list");
  var template = $("template#scc-message-template");
  var banner = $("#connection-banner");
  var liveRegion = $("#live-region");
  var typingNode = $("#typing-indicator");
  var composer = $("#composer");
  var myRooms = $("#my-rooms");
  var showsOlderSlice = !!$("#newer");

  // --- State ------------------------------------------------------------------------------

  var lastEventSeq = {}; // room slug -> highest event_seq applied
  var replaying = {}; // room slug -> true while a resume is running
  var resumes = {}; // frame id -> room slug of a resume waiting for its answer
  var pending = {}; // client_id -> {content, node, frameId}
  var typists = {}; // user id -> {name, timer}
  var socket = null;
  var attempts = 0;
  var openedAt = 0;
  // A socket that stayed open this long was serving: its drop starts the backoff again.
  // One the server closes sooner (too many sockets or resumes, too slow, unavailable) keeps
  // backing off, or every tab would reconnect twice a second while the refusal lasts.
  var STABLE_MS = 10000;
  // 4001 on a socket that was in: its session may only have been renewed by this very
  // browser (a password change here rotates the session key, update_session_auth_hash), so
  // one reconnect with the current cookie decides; a second 4001 in a row is final.
  var authRetried = false;
  var stopped = false;
  var frameCounter = 0;
  var pingTimer = null;
  var lastTypingSent = 0;
  var typingIdleTimer = null;
  var readSeqSent = 0;
  var readFrameId = null; // id of the last read frame: a refusal names it
  var readSentAt = 0;
  var readTimer = null;
  var maxSeqSeen = Number(config.lastSeq || 0);

  if (roomSlug) {
    lastEventSeq[roomSlug] = Number(config.lastEventSeq || 0);
  }

  // --- Connection -------------------------------------------------------------------------

  function socketUrl() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var path = config.wsUrl || (roomSlug ? "/ws/chat/" + roomSlug + "/" : "/ws/chat/");
    var query = "?v=" + PROTOCOL_VERSION;
    if (roomSlug) {
      query += "&event_seq=" + (lastEventSeq[roomSlug] || 0);
      replaying[roomSlug] = true;
    }
    return scheme + window.location.host + path + query;
  }

  function showBanner(text) {
    if (!banner) {
      return;
    }
    if (text) {
      banner.textContent = text;
      banner.hidden = false;
    } else {
      banner.hidden = true;
    }
  }

  var retryTimer = null;

  /* The connection is lost: say so, and try again after the next backoff step. */
  function lost() {
    clearInterval(pingTimer);
    showBanner(t("reconnecting", "Reconnecting…"));
    // Exponential backoff with jitter: 0.5 s, 1 s, 2 s… up to 30 s, times 0.5–1.5.
    var delay = Math.min(30000, 500 * Math.pow(2, attempts)) * (0.5 + Math.random());
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
    var old = socket;
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

  function connect() {
    clearTimeout(retryTimer);
    retryTimer = null;
    if (stopped || socket) {
      return;
    }
    var ws = new WebSocket(socketUrl());
    socket = ws;
    ws.addEventListener("open", function () {
      if (ws !== socket) {
        return;
      }
      openedAt = Date.now();
      showBanner(null);
      Object.keys(pending).forEach(function (clientId) {
        sendPending(clientId);
      });
      clearInterval(pingTimer);
      pingTimer = setInterval(function () {
        send({ type: "ping" });
      }, 25000);
      markRead();
    });
    ws.addEventListener("message", function (event) {
      if (ws !== socket) {
        return;
      }
      var frame;
      try {
        frame = JSON.parse(event.data);
      } catch (err) {
        return;
      }
      handle(frame);
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
      var fatal = FATAL_CLOSE[event.code];
      if (event.code === 4001 && !authRetried) {
        authRetried = true;
        fatal = null;
      }
      if (fatal) {
        clearInterval(pingTimer);
        stopped = true;
        showBanner(t(fatal, "Disconnected."));
        return;
      }
      lost();
    });
  }

  function send(frame) {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  function nextId() {
    frameCounter += 1;
    return frameCounter;
  }

  // Ask for a room's changes after `since`. Resumes are rate-limited by the server: a
  // refused one (error rate_limited) is asked again after its retry_after (onError).
  function requestResume(room, since) {
    var id = nextId();
    replaying[room] = true;
    if (send({ type: "resume", room: room, event_seq: since, id: id })) {
      resumes[id] = room;
    } else {
      replaying[room] = false; // not connected: the reconnect resumes
    }
  }

  // --- Messages ---------------------------------------------------------------------------

  function findMessage(id) {
    return list ? $('li.scc-message[data-id="' + String(Number(id)) + '"]', list) : null;
  }

  function formatTime(value) {
    var date = new Date(value);
    return isNaN(date.getTime()) ? "" : date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function newMessageNode() {
    if (template && template.content && template.content.firstElementChild) {
      return template.content.firstElementChild.cloneNode(true);
    }
    var li = document.createElement("li");
    li.className = "scc-message";
    ["scc-author", "scc-content"].forEach(function (name) {
      var part = document.createElement("div");
      part.className = name;
      li.appendChild(part);
    });
    var time = document.createElement("time");
    time.className = "scc-time";
    li.appendChild(time);
    return li;
  }

  function fill(node, message) {
    var mine = message.sender && String(message.sender.id) === String(config.userId);
    node.classList.remove("scc-pending");
    node.classList.toggle("scc-mine", !!mine);
    node.classList.toggle("scc-deleted", !!message.is_deleted);
    node.setAttribute("data-id", String(message.id));
    node.setAttribute("data-seq", String(message.seq));
    node.setAttribute("data-event-seq", String(message.event_seq));
    node.setAttribute("data-sender-id", message.sender ? String(message.sender.id) : "");
    if (message.client_id) {
      node.setAttribute("data-client-id", message.client_id);
    }
    var author = $(".scc-author", node);
    if (author) {
      author.textContent = message.sender ? message.sender.name : t("deletedUser", "Deleted user");
    }
    var time = $("time.scc-time", node);
    if (time) {
      time.setAttribute("datetime", message.created_at);
      time.textContent = formatTime(message.created_at);
    }
    var content = $(".scc-content", node);
    if (content) {
      content.textContent = message.is_deleted ? t("message_deleted", "Message deleted") : message.content;
    }
    var edited = $(".scc-edited", node);
    if (edited) {
      edited.hidden = !(message.is_edited && !message.is_deleted);
    }
    var actions = $(".scc-actions", node);
    if (actions) {
      var serverRendered = node.classList.contains("scc-static");
      actions.hidden = !!message.is_deleted || (!mine && !serverRendered && !config.canModerate);
      var editButton = $('[data-action="edit"]', actions);
      if (editButton && !serverRendered) {
        editButton.hidden = !mine;
      }
    }
  }

  function announce(message) {
    if (!liveRegion || !message.sender || String(message.sender.id) === String(config.userId)) {
      return;
    }
    liveRegion.textContent =
      format(t("new_message_announcement", "New message from %(name)s"), { name: message.sender.name }) +
      ": " +
      (message.content || "");
  }

  /* Insert or update a message; older versions (by event_seq) are ignored. */
  function upsert(message, isNew) {
    if (!list || message.room !== roomSlug) {
      return;
    }
    var node = findMessage(message.id);
    if (!node && message.client_id && pending[message.client_id]) {
      node = pending[message.client_id].node;
      delete pending[message.client_id];
    }
    if (node) {
      var known = Number(node.getAttribute("data-event-seq") || 0);
      if (known >= message.event_seq && !node.classList.contains("scc-pending")) {
        return;
      }
      fill(node, message);
      return;
    }
    if (showsOlderSlice) {
      return; // docs/frontend.md: a page of older history does not grow live messages
    }
    node = newMessageNode();
    fill(node, message);
    // Keep the list ordered by seq, whatever order frames arrive in.
    var after = null;
    $$("li.scc-message[data-seq]", list).forEach(function (li) {
      if (!li.classList.contains("scc-pending") && Number(li.getAttribute("data-seq")) > message.seq && !after) {
        after = li;
      }
    });
    list.insertBefore(node, after || firstPending());
    maxSeqSeen = Math.max(maxSeqSeen, message.seq);
    if (isNew) {
      announce(message);
      clearTyping(message.sender && message.sender.id);
    }
    markRead();
  }

  // --- Older history, loaded in place when the reader scrolls up to it ------------------
  // Without JavaScript #older is a plain link to the older page; with it, the page grows.

  var olderLink = $("#older");
  var loadingOlder = false;
  var olderObserver = null;

  function prependOlder(messages) {
    var first = $("li.scc-message[data-seq]", list);
    messages.forEach(function (message) {
      if (findMessage(message.id)) {
        return;
      }
      var node = newMessageNode();
      node.classList.add("scc-history");
      fill(node, message);
      list.insertBefore(node, first);
    });
  }

  function watchOlder() {
    if (olderObserver && olderLink) {
      // Re-observing reports the current state: loads again while the link is still in view.
      olderObserver.unobserve(olderLink);
      olderObserver.observe(olderLink);
    }
  }

  function loadOlder() {
    var before = olderLink ? Number(olderLink.getAttribute("data-before")) : 0;
    if (loadingOlder || !before || !config.historyUrl || !list || !window.fetch) {
      return;
    }
    loadingOlder = true;
    olderLink.setAttribute("aria-busy", "true");
    var url = config.historyUrl + "?before=" + before + "&limit=" + Number(config.pageSize || 50);
    window
      .fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("history " + response.status);
        }
        return response.json();
      })
      .then(function (page) {
        prependOlder(page.results || []);
        if (page.has_before && page.first_seq) {
          olderLink.setAttribute("data-before", String(page.first_seq));
          olderLink.setAttribute("href", "?before=" + page.first_seq);
        } else {
          (olderLink.parentNode || olderLink).remove();
          olderLink = null;
        }
      })
      .catch(function () {
        // The plain link still works: following it loads the older page.
      })
      .then(function () {
        loadingOlder = false;
        if (olderLink) {
          olderLink.removeAttribute("aria-busy");
          watchOlder();
        }
      });
  }

  if (olderLink && config.historyUrl) {
    olderLink.addEventListener("click", function (event) {
      event.preventDefault();
      loadOlder();
    });
    if (window.IntersectionObserver) {
      olderObserver = new IntersectionObserver(
        function (entries) {
          if (entries.some(function (entry) { return entry.isIntersecting; })) {
            loadOlder();
          }
        },
        { root: $(".scc-scroll"), rootMargin: "200px 0px 0px 0px" }
      );
      olderObserver.observe(olderLink);
    }
  }

  function firstPending() {
    return list ? $("li.scc-pending", list) : null;
  }

  function onMessageFrame(frame) {
    var message = frame.message;
    var room = message.room;
    var last = lastEventSeq[room] || 0;
    if (!replaying[room] && message.event_seq > last + 1 && room in lastEventSeq) {
      // A gap: a live frame was lost on the way. Ask for everything after what we have.
      requestResume(room, last);
    }
    if (message.event_seq > last) {
      lastEventSeq[room] = message.event_seq;
    }
    upsert(message, frame.type === "message.new");
    updateRoomList(message, frame.type);
  }

  // --- Sending ----------------------------------------------------------------------------

  function sendPending(clientId) {
    var entry = pending[clientId];
    if (!entry) {
      return;
    }
    entry.frameId = nextId();
    send({ type: "message.send", room: roomSlug, content: entry.content, client_id: clientId, id: entry.frameId });
  }

  function submit(content) {
    var text = content.trim();
    if (!text || !list) {
      return;
    }
    var clientId = newClientId();
    var node = newMessageNode();
    node.classList.add("scc-pending", "scc-mine");
    node.setAttribute("data-client-id", clientId);
    var author = $(".scc-author", node);
    if (author) {
      author.textContent = config.userName || "";
    }
    var time = $("time.scc-time", node);
    if (time) {
      time.textContent = t("sending", "sending…");
    }
    var body = $(".scc-content", node);
    if (body) {
      body.textContent = text;
    }
    var actions = $(".scc-actions", node);
    if (actions) {
      actions.hidden = true;
    }
    list.appendChild(node);
    pending[clientId] = { content: text, node: node, frameId: null };
    sendPending(clientId);
  }

  function pendingForFrame(frameId) {
    var found = null;
    Object.keys(pending).forEach(function (clientId) {
      if (pending[clientId].frameId === frameId) {
        found = clientId;
      }
    });
    return found;
  }

  function onError(frame) {
    var resumed = frame.id == null ? undefined : resumes[frame.id];
    if (resumed !== undefined) {
      delete resumes[frame.id];
      if (frame.code === "rate_limited") {
        setTimeout(function () {
          requestResume(resumed, lastEventSeq[resumed] || 0);
        }, Math.ceil((frame.retry_after || 1) * 1000));
      } else {
        replaying[resumed] = false;
      }
      return;
    }
    if (frame.id != null && frame.id === readFrameId && frame.code === "rate_limited") {
      // Many room pages opened quickly (READ_RATE_*): send the marker again once allowed,
      // or the room stays unread; nothing the reader needs to hear about.
      readFrameId = null;
      readSeqSent = 0;
      readSentAt = Date.now() + Math.ceil((frame.retry_after || 1) * 1000) - READ_INTERVAL_MS;
      markRead();
      return;
    }
    var clientId = frame.id == null ? null : pendingForFrame(frame.id);
    if (clientId && frame.code === "rate_limited") {
      setTimeout(function () {
        sendPending(clientId);
      }, Math.ceil((frame.retry_after || 1) * 1000));
      return;
    }
    if (clientId) {
      var node = pending[clientId].node;
      delete pending[clientId];
      node.classList.remove("scc-pending");
      node.classList.add("scc-failed");
      var time = $("time.scc-time", node);
      if (time) {
        time.textContent = frame.message;
      }
      return;
    }
    if (liveRegion && frame.message) {
      liveRegion.textContent = frame.message;
    }
  }

  // --- Typing -----------------------------------------------------------------------------

  function renderTyping() {
    if (!typingNode) {
      return;
    }
    var names = Object.keys(typists).map(function (id) {
      return typists[id].name;
    });
    if (!names.length) {
      typingNode.textContent = "";
    } else if (names.length === 1) {
      typingNode.textContent = format(t("typing_one", "%(name)s is typing…"), { name: names[0] });
    } else if (names.length === 2) {
      typingNode.textContent = format(t("typing_two", "%(name)s and %(other)s are typing…"), {
        name: names[0],
        other: names[1],
      });
    } else {
      typingNode.textContent = format(t("typing_many", "%(name)s and %(count)s others are typing…"), {
        name: names[0],
        count: names.length - 1,
      });
    }
  }

  /* Forget that we announced typing; tell the others when ``notify`` (not after a send). */
  function stopTyping(notify) {
    clearTimeout(typingIdleTimer);
    if (lastTypingSent && notify) {
      send({ type: "typing", room: roomSlug, state: "stopped" });
    }
    lastTypingSent = 0;
  }

  function clearTyping(userId) {
    if (userId != null && typists[userId]) {
      clearTimeout(typists[userId].timer);
      delete typists[userId];
      renderTyping();
    }
  }

  function onTyping(frame) {
    if (frame.room !== roomSlug || String(frame.user.id) === String(config.userId)) {
      return;
    }
    clearTyping(frame.user.id);
    if (frame.state === "started") {
      typists[frame.user.id] = {
        name: frame.user.name,
        timer: setTimeout(function () {
          clearTyping(frame.user.id);
        }, frame.expires_in * 1000),
      };
    }
    renderTyping();
  }

  // --- Participants and presence ------------------------------------------------------------

  function participantNode(user, create) {
    var root = $("#participants");
    if (!root) {
      return null;
    }
    var node = $('li[data-user-id="' + String(Number(user.id)) + '"]', root);
    if (!node && create) {
      node = document.createElement("li");
      node.setAttribute("data-user-id", String(user.id));
      var dot = document.createElement("span");
      dot.className = "scc-presence scc-offline";
      dot.setAttribute("role", "img");
      dot.setAttribute("aria-label", t("offline", "offline"));
      var name = document.createElement("span");
      name.className = "scc-name";
      name.textContent = user.name;
      node.appendChild(dot);
      node.appendChild(document.createTextNode(" "));
      node.appendChild(name);
      root.appendChild(node);
    }
    return node;
  }

  function setPresence(user, online) {
    var node = participantNode(user, false);
    var dot = node && $(".scc-presence", node);
    if (dot) {
      dot.classList.toggle("scc-online", !!online);
      dot.classList.toggle("scc-offline", !online);
      dot.setAttribute("aria-label", online ? t("online", "online") : t("offline", "offline"));
    }
  }

  function onParticipants(frame) {
    if (frame.room !== roomSlug) {
      return;
    }
    frame.participants.forEach(function (p) {
      participantNode(p.user, true);
      setPresence(p.user, p.online);
    });
  }

  // --- Room list ----------------------------------------------------------------------------

  function roomItem(slug) {
    return myRooms ? $('li[data-room="' + slug.replace(/[^a-zA-Z0-9_-]/g, "") + '"]', myRooms) : null;
  }

  function setUnread(item, count) {
    var badge = $(".scc-unread", item);
    if (!badge) {
      badge = document.createElement("span");
      badge.className = "badge text-bg-primary scc-unread";
      item.appendChild(badge);
    }
    badge.textContent = String(count);
    badge.hidden = count <= 0;
  }

  function updateRoomList(message, type) {
    var item = roomItem(message.room);
    if (!item) {
      return;
    }
    var preview = $(".scc-preview", item);
    if (!preview) {
      preview = document.createElement("small");
      preview.className = "scc-preview";
      item.appendChild(preview);
    }
    preview.textContent = message.is_deleted ? t("message_deleted", "Message deleted") : (message.content || "").slice(0, 80);
    var mine = message.sender && String(message.sender.id) === String(config.userId);
    if (type === "message.new" && !mine && message.room !== roomSlug) {
      var badge = $(".scc-unread", item);
      setUnread(item, (badge ? Number(badge.textContent) || 0 : 0) + 1);
    }
    if (myRooms && item.parentNode === myRooms) {
      myRooms.insertBefore(item, myRooms.firstElementChild);
    }
  }

  function onRoomAdded(frame) {
    var room = frame.room;
    lastEventSeq[room.slug] = lastEventSeq[room.slug] || room.last_event_seq;
    if (!myRooms || roomItem(room.slug)) {
      return;
    }
    var item = document.createElement("li");
    item.className = "list-group-item";
    item.setAttribute("data-room", room.slug);
    var link = document.createElement("a");
    link.href = (config.roomUrl || "/chat/room/__slug__/").replace("__slug__", encodeURIComponent(room.slug));
    link.textContent = room.name;
    item.appendChild(link);
    myRooms.insertBefore(item, myRooms.firstElementChild);
  }

  function onRoomRemoved(frame) {
    var item = roomItem(frame.room);
    if (item) {
      item.parentNode.removeChild(item);
    }
    if (frame.room === roomSlug) {
      showBanner(t("closedForbidden", "You no longer have access to this room."));
    }
  }

  // --- Read markers -------------------------------------------------------------------------

  /* A read marker is a database write: in a busy room each reader sends at most one per
     READ_INTERVAL_MS (the newest seen when it goes), not one per message received. */
  var READ_INTERVAL_MS = 2000;

  function markRead() {
    if (!roomSlug || document.visibilityState !== "visible" || maxSeqSeen <= readSeqSent) {
      return;
    }
    var wait = readSentAt + READ_INTERVAL_MS - Date.now();
    if (wait > 0) {
      if (!readTimer) {
        readTimer = setTimeout(function () {
          readTimer = null;
          markRead();
        }, wait);
      }
      return;
    }
    var id = nextId();
    if (send({ type: "read", room: roomSlug, seq: maxSeqSeen, id: id })) {
      readFrameId = id;
      readSeqSent = maxSeqSeen;
      readSentAt = Date.now();
    }
  }

  // --- Dispatch -----------------------------------------------------------------------------

  function handle(frame) {
    switch (frame.type) {
      case "message.new":
      case "message.edited":
      case "message.deleted":
        onMessageFrame(frame);
        break;
      case "ack":
        if (frame.message) {
          upsert(frame.message, false);
        }
        break;
      case "error":
        onError(frame);
        break;
      case "typing":
        onTyping(frame);
        break;
      case "presence":
        if (frame.room === roomSlug) {
          setPresence(frame.user, frame.online);
        }
        break;
      case "participants":
        onParticipants(frame);
        break;
      case "participant.joined":
        if (frame.room === roomSlug) {
          participantNode(frame.user, true);
        }
        break;
      case "participant.left":
        if (frame.room === roomSlug) {
          var gone = participantNode(frame.user, false);
          if (gone) {
            gone.parentNode.removeChild(gone);
          }
        }
        break;
      case "unread":
        var item = roomItem(frame.room);
        if (item) {
          setUnread(item, frame.unread);
        }
        break;
      case "room.added":
        onRoomAdded(frame);
        break;
      case "room.removed":
        onRoomRemoved(frame);
        break;
      case "room.updated":
        var named = roomItem(frame.room.slug);
        var link = named && $("a", named);
        if (link) {
          link.textContent = frame.room.name;
        }
        break;
      case "resumed":
        replaying[frame.room] = false;
        lastEventSeq[frame.room] = Math.max(lastEventSeq[frame.room] || 0, frame.event_seq);
        delete resumes[frame.id];
        if (frame.truncated) {
          requestResume(frame.room, frame.event_seq);
        }
        break;
      default:
        break;
    }
  }

  // --- Page wiring --------------------------------------------------------------------------

  if (composer) {
    var textarea = $("textarea[name=content]", composer);
    composer.addEventListener("submit", function (event) {
      event.preventDefault();
      stopTyping(false); // the message itself clears the indicator of the others
      if (textarea) {
        submit(textarea.value);
        textarea.value = "";
        textarea.focus();
      }
    });
    if (textarea) {
      textarea.addEventListener("keydown", function (event) {
        if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
          event.preventDefault();
          composer.requestSubmit ? composer.requestSubmit() : composer.dispatchEvent(new Event("submit"));
        }
      });
      textarea.addEventListener("input", function () {
        var now = Date.now();
        clearTimeout(typingIdleTimer);
        if (!textarea.value.trim()) {
          stopTyping(true);
          return;
        }
        if (now - lastTypingSent > 3000) {
          lastTypingSent = now;
          send({ type: "typing", room: roomSlug, state: "started" });
        }
        typingIdleTimer = setTimeout(function () {
          stopTyping(true);
        }, 4000);
      });
    }
  }

  if (list) {
    list.addEventListener("click", function (event) {
      var button = event.target.closest ? event.target.closest("[data-action]") : null;
      var node = button && button.closest("li.scc-message[data-id]");
      if (!node) {
        return;
      }
      event.preventDefault();
      var id = Number(node.getAttribute("data-id"));
      var action = button.getAttribute("data-action");
      if (action === "edit") {
        var current = $(".scc-content", node);
        var edited = window.prompt(t("editPrompt", "Edit message"), current ? current.textContent : "");
        if (edited !== null && edited.trim()) {
          send({ type: "message.edit", room: roomSlug, message_id: id, content: edited, id: nextId() });
        }
      } else if (action === "delete") {
        if (window.confirm(t("confirm_delete", "Delete this message?"))) {
          send({ type: "message.delete", room: roomSlug, message_id: id, id: nextId() });
        }
      }
    });
  }

  document.addEventListener("visibilitychange", markRead);
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
})();
