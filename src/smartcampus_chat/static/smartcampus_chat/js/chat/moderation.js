/*
 * Moderation as its person sees it: a moderator's mute, ban, removal or role change
 * (moderation.notice, on every socket of theirs: announced), and the open room's lock
 * (room.updated).
 * While the reader may not post, the composer is hidden and the notice above it
 * (#scc-posting-notice, a status region) says why and until when; a timed mute lifts
 * itself at its end, as the server's does (no frame comes then).
 */

import { on } from "./bus.js";
import { formatFull } from "./dates.js";
import { announce, format, t } from "./i18n.js";
import { $, config, roomSlug } from "./page.js";

// A mute "until unmuted" ends on this date (the server's FOREVER): no timer for it.
const FOREVER_YEAR = 9999;
// setTimeout's longest delay (about 24.8 days); a longer mute is re-checked then.
const LONGEST_TIMER = 2147483647;

// The roles' names, in the page's language.
const ROLE_NAMES = {
  read_only: () => t("role_read_only"),
  member: () => t("role_member"),
  moderator: () => t("role_moderator"),
  owner: () => t("role_owner"),
};

let reason = "";
let timer = null;

function isIndefinite(until) {
  return new Date(until).getUTCFullYear() >= FOREVER_YEAR;
}

function roomName(slug) {
  if (slug === roomSlug && config.title) {
    return config.title;
  }
  const item = document.querySelector('li[data-room="' + CSS.escape(slug) + '"]');
  return (item && item.getAttribute("data-name")) || slug;
}

function withReason(text, why) {
  return why ? text + " " + format(t("reasonNotice"), { reason: why }) : text;
}

/* Why the reader may not post in the open room now ("" when they may). */
function postingNotice() {
  const until = config.mutedUntil;
  if (until && new Date(until) > new Date()) {
    const text = isIndefinite(until)
      ? t("mutedNoticeIndefinite")
      : format(t("mutedNotice"), { until: formatFull(until) });
    return withReason(text, reason);
  }
  if (config.locked && !config.canModerate) {
    return t("lockedNotice");
  }
  return "";
}

/** Whether the open room's course has ended (js/chat/terms.js shows why). */
export function courseEnded() {
  return !!config.endsAt && new Date(config.endsAt) <= new Date();
}

/** Show the composer, or the notice of why not; re-run at a timed mute's end. */
export function refresh() {
  const composer = $("#composer");
  const notice = $("#scc-posting-notice");
  clearTimeout(timer);
  if (!composer || !notice) {
    return;
  }
  if (courseEnded()) {
    // Read-only for everyone: the course's banner (#scc-ended-notice) says so.
    composer.hidden = true;
    notice.hidden = true;
    return;
  }
  const text = postingNotice();
  composer.hidden = !!text;
  notice.hidden = !text;
  notice.textContent = text;
  const until = config.mutedUntil;
  if (text && until && !isIndefinite(until)) {
    const wait = Math.min(new Date(until) - new Date() + 500, LONGEST_TIMER);
    timer = setTimeout(refresh, Math.max(wait, 0));
  }
}

/** "moderation.notice": told once (the live region), and the open room's composer follows. */
export function onNotice(frame) {
  const room = roomName(frame.room);
  const here = frame.room === roomSlug;
  const timed = frame.until && !isIndefinite(frame.until);
  const values = { room: room, until: timed ? formatFull(frame.until) : "", role: ROLE_NAMES[frame.role] ? ROLE_NAMES[frame.role]() : frame.role };
  let text = "";
  if (frame.action === "muted") {
    if (here) {
      config.mutedUntil = frame.until || new Date(Date.UTC(FOREVER_YEAR, 11, 31)).toISOString();
      reason = frame.reason || "";
      refresh();
      return;
    }
    text = t("mutedElsewhere");
  } else if (frame.action === "unmuted") {
    if (here) {
      config.mutedUntil = null;
      reason = "";
      refresh();
    }
    text = t("unmutedNotice");
  } else if (frame.action === "banned") {
    text = timed ? t("bannedNotice") : t("bannedNoticeIndefinite");
  } else if (frame.action === "removed") {
    text = t("removedNotice");
  } else if (frame.action === "unbanned") {
    text = t("unbannedNotice");
  } else if (frame.action === "role") {
    if (here) {
      config.canModerate = frame.role === "moderator" || frame.role === "owner";
      refresh();
    }
    text = t("roleNotice");
  }
  if (!text) {
    return;
  }
  // Said to screen readers; a ban from the open room also closes its socket, whose banner
  // (#connection-banner) shows that the room is gone for them.
  announce(withReason(format(text, values), frame.reason));
}

export function init() {
  on("roomUpdated", function (detail) {
    if (detail.room.slug === roomSlug) {
      config.locked = !!detail.room.is_locked;
      refresh();
    }
  });
  on("room:open", function () {
    reason = "";
    refresh();
  });
  refresh();
}
