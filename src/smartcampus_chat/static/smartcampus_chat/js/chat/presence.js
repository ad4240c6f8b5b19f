/*
 * Participants and presence (#participants): who is in the room and who is online.
 */

import { t } from "./i18n.js";
import { $, roomSlug } from "./page.js";

function participantNode(user, create) {
  const root = $("#participants");
  if (!root) {
    return null;
  }
  let node = $('li[data-user-id="' + String(Number(user.id)) + '"]', root);
  if (!node && create) {
    node = document.createElement("li");
    node.setAttribute("data-user-id", String(user.id));
    const dot = document.createElement("span");
    dot.className = "scc-presence scc-offline";
    dot.setAttribute("role", "img");
    dot.setAttribute("aria-label", t("offline"));
    const name = document.createElement("span");
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
  const node = participantNode(user, false);
  const dot = node && $(".scc-presence", node);
  if (dot) {
    dot.classList.toggle("scc-online", !!online);
    dot.classList.toggle("scc-offline", !online);
    dot.setAttribute("aria-label", online ? t("online") : t("offline"));
  }
}

/** "participants": the room's list, sent once the socket is in. */
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
  if (frame.room === roomSlug) {
    setPresence(frame.user, frame.online);
  }
}

/** "participant.joined". */
export function onJoined(frame) {
  if (frame.room === roomSlug) {
    participantNode(frame.user, true);
  }
}

/** "participant.left". */
export function onLeft(frame) {
  if (frame.room !== roomSlug) {
    return;
  }
  const gone = participantNode(frame.user, false);
  if (gone) {
    gone.parentNode.removeChild(gone);
  }
}
