/*
 * Participants and presence: the open room's #participants (who is in, who is online, how
 * many: .scc-member-count), and the presence dot of the other person on the sidebar's
 * direct messages (li[data-peer-id]).
 */

import { plural, t } from "./i18n.js";
import { $, $$, roomSlug } from "./page.js";

function participantNode(user, create) {
  const root = $("#participants");
  if (!root) {
    return null;
  }
  let node = $('li[data-user-id="' + String(Number(user.id)) + '"]', root);
  if (!node && create) {
    // The markup of includes/participant.html, so a live participant looks the same.
    node = document.createElement("li");
    node.className = "scc-participant d-flex align-items-center gap-2";
    node.setAttribute("data-user-id", String(user.id));
    const dot = document.createElement("span");
    dot.className = "scc-presence scc-offline";
    dot.setAttribute("role", "img");
    dot.setAttribute("aria-label", t("offline"));
    const name = document.createElement("span");
    name.className = "scc-participant-name scc-name text-truncate";
    name.textContent = user.name;
    name.title = user.name;
    node.appendChild(dot);
    node.appendChild(name);
    root.appendChild(node);
    countMembers();
  }
  return node;
}

/* The room's member count follows its list. */
function countMembers() {
  const count = $(".scc-member-count");
  const root = $("#participants");
  if (!count || !root) {
    return;
  }
  count.textContent = plural("members", $$("li[data-user-id]", root).length);
}

function setDot(dot, online) {
  dot.classList.toggle("scc-online", !!online);
  dot.classList.toggle("scc-offline", !online);
  dot.setAttribute("aria-label", online ? t("online") : t("offline"));
}

function setPresence(user, online) {
  const node = participantNode(user, false);
  const dot = node && $(".scc-presence", node);
  if (dot) {
    setDot(dot, online);
  }
}

/* The sidebar's direct message with `user`, in `room`. */
function peerDot(room, user) {
  const item = $('#my-rooms li[data-room="' + String(room).replace(/[^a-zA-Z0-9_-]/g, "") + '"]');
  if (!item || item.getAttribute("data-peer-id") !== String(user.id)) {
    return null;
  }
  return $(".scc-presence", item);
}

/** "participants": the room's list, sent once the room's own socket is in. */
export function onParticipants(frame) {
  if (frame.room !== roomSlug) {
    return;
  }
  frame.participants.forEach(function (p) {
    participantNode(p.user, true);
    setPresence(p.user, p.online);
  });
}

/** "presence": someone came online or went offline. */
export function onPresence(frame) {
  const dot = peerDot(frame.room, frame.user);
  if (dot) {
    setDot(dot, frame.online);
  }
  if (frame.room === roomSlug) {
    setPresence(frame.user, frame.online);
  }
}

/**
 * "presence.batch": several people's presence at once, each as it is now (a room filling
 * up, or every participant after the server's channel layer was interrupted). It may
 * name oneself.
 */
export function onPresenceBatch(frame) {
  frame.changes.forEach(function (change) {
    onPresence({ room: frame.room, user: change.user, online: change.online });
  });
}

/** "participant.joined". */
export function onJoined(frame) {
  if (frame.room === roomSlug) {
    participantNode(frame.user, true);
  }
}

/** "participant.updated": a member's role changed (kept on the row, for styles). */
export function onUpdated(frame) {
  const node = frame.room === roomSlug ? participantNode(frame.user, false) : null;
  if (node) {
    node.setAttribute("data-role", frame.role);
  }
}

/** "participant.left". */
export function onLeft(frame) {
  if (frame.room !== roomSlug) {
    return;
  }
  const gone = participantNode(frame.user, false);
  if (gone) {
    gone.remove();
    countMembers();
  }
}
