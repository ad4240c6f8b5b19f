/*
 * A course room at its term's end (docs/terms.md): once the course has ended (config.endsAt,
 * or a room.updated that sets it) the room is read-only for everyone. The banner above the
 * conversation (#scc-ended-notice, a status region: screen readers hear it) says since
 * when, and the composer goes. No frame comes at that moment: a timer fires at the end, as
 * the server refuses sends from then on by its own clock.
 */

import { on } from "./bus.js";
import { formatDay } from "./dates.js";
import { format, t } from "./i18n.js";
import { courseEnded, refresh as refreshComposer } from "./moderation.js";
import { $, config, roomSlug } from "./page.js";

// setTimeout's longest delay (about 24.8 days); a later end is re-checked then.
const LONGEST_TIMER = 2147483647;

let timer = null;

/* The course's last day: an end at midnight closes the day before it. */
function lastDay(endsAt) {
  return new Date(new Date(endsAt).getTime() - 1);
}

/** Show or hide the read-only banner; schedule it for a future end. */
export function refresh() {
  clearTimeout(timer);
  const banner = $("#scc-ended-notice");
  const ended = courseEnded();
  if (banner) {
    const text = ended ? format(t("courseEnded"), { date: formatDay(lastDay(config.endsAt)) }) : "";
    if (banner.textContent !== text) {
      banner.textContent = text;
    }
    banner.hidden = !ended;
  }
  refreshComposer();
  if (!ended && config.endsAt) {
    const wait = Math.min(new Date(config.endsAt) - new Date() + 500, LONGEST_TIMER);
    timer = setTimeout(refresh, Math.max(wait, 0));
  }
}

export function init() {
  on("roomUpdated", function (detail) {
    if (detail.room.slug === roomSlug) {
      config.endsAt = detail.room.ends_at || null;
      refresh();
    }
  });
  on("room:open", refresh);
  refresh();
}
