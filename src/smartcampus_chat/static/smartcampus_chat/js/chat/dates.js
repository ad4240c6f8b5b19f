/*
 * Times and days as the server renders them (smartcampus_chat.web.timeline): in the
 * page's language and the user's time zone (config.locale, config.timeZone), with the
 * clock the server's time format uses (config.hour12). "11:47 PM" in English, "23:47" in
 * French, whether the server or this client rendered the message.
 */

import { t } from "./i18n.js";
import { config } from "./page.js";

function formatter(options) {
  try {
    return new Intl.DateTimeFormat(config.locale, Object.assign({ timeZone: config.timeZone }, options));
  } catch (err) {
    return new Intl.DateTimeFormat(undefined, options); // an unknown zone or locale
  }
}

const timeFormat = formatter(
  config.hour12
    ? { hour: "numeric", minute: "2-digit", hour12: true }
    : { hour: "2-digit", minute: "2-digit", hourCycle: "h23" }
);
const dayFormat = formatter({ year: "numeric", month: "long", day: "numeric" });
const fullFormat = formatter({ dateStyle: "full", timeStyle: "short" });
// A day's key (YYYY-MM-DD) in the user's time zone, to compare days.
const keyFormat = formatter({ year: "numeric", month: "2-digit", day: "2-digit" });

function valid(value) {
  const date = value instanceof Date ? value : new Date(value);
  return isNaN(date.getTime()) ? null : date;
}

/* ICU may put a narrow or non-breaking space before "PM": the server writes a plain one. */
function plain(text) {
  return text.replace(/[\u202f\u00a0]/g, " ");
}

export function formatTime(value) {
  const date = valid(value);
  return date ? plain(timeFormat.format(date)) : "";
}

/** A day in words ("7 December 2026"), in the page's language and time zone. */
export function formatDay(value) {
  const date = valid(value);
  return date ? plain(dayFormat.format(date)) : "";
}

export function formatFull(value) {
  const date = valid(value);
  return date ? plain(fullFormat.format(date)) : "";
}

// Day keys by instant (ms): the list is regrouped after every change, and Intl is slow.
const dayKeys = new Map();

export function dayKey(value) {
  const date = valid(value);
  if (!date) {
    return "";
  }
  const time = date.getTime();
  let key = dayKeys.get(time);
  if (key === undefined) {
    const parts = {};
    keyFormat.formatToParts(date).forEach(function (part) {
      parts[part.type] = part.value;
    });
    key = parts.year + "-" + parts.month + "-" + parts.day;
    dayKeys.set(time, key);
  }
  return key;
}

/** "Today", "Yesterday" or the date, as web.timeline.day_label. */
export function dayLabel(value) {
  const date = valid(value);
  if (!date) {
    return "";
  }
  const key = dayKey(date);
  const now = new Date();
  if (key === dayKey(now)) {
    return t("today");
  }
  // 24 hours ago is yesterday (one hour off at most around a daylight-saving change).
  const yesterday = new Date(now.getTime() - 24 * 3600 * 1000);
  if (key === dayKey(yesterday)) {
    return t("yesterday");
  }
  return plain(dayFormat.format(date));
}
