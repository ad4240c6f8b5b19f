/*
 * Banners and translated strings. Every string comes from config.i18n, filled by the server
 * in the page's language (smartcampus_chat.web.page_config.client_strings).
 */

import { $, config } from "./page.js";

/** Close codes that end the client, and the i18n key of the banner each shows. */
export const FATAL_CLOSE = { 4001: "closedAuth", 4003: "closedForbidden", 4004: "closedGone", 4005: "closedVersion" };

const i18n = config.i18n || {};
const banner = $("#connection-banner");
const liveRegion = $("#live-region");

/** The translated string of `key` (the key itself if the server did not send it). */
export function t(key) {
  return typeof i18n[key] === "string" ? i18n[key] : key;
}

/** The name `message` is shown under, as the server names it (domain.names.author_name):
    the site's for a system message, "Anonymous classmate" for an anonymous post,
    "Former member" when the sender's account is gone or was erased. */
export function authorName(message) {
  if (message.kind === "system") {
    return t("systemAuthor");
  }
  if (message.anonymous) {
    return t("anonymousName");
  }
  return message.sender ? message.sender.name : t("deletedUser");
}

/* Fill Python-style "%(key)s" placeholders in one pass. A value is inserted as it is:
   never read as a replacement pattern ("$&", "$'") nor filled in turn ("%(other)s"). */
export function format(template, values) {
  return template.replace(/%\((\w+)\)s/g, function (placeholder, key) {
    return Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : placeholder;
  });
}

/** `<key>_one` or `<key>_other` (the plural form of the page's language, by
    Intl.PluralRules) with `count` filled in. */
export function plural(key, count) {
  const lang = document.documentElement.lang || "en";
  const form = window.Intl && Intl.PluralRules ? new Intl.PluralRules(lang).select(count) : count === 1 ? "one" : "other";
  return format(form === "one" ? t(key + "_one") : t(key + "_other"), { count: count });
}

/** Show `text` in #connection-banner, or hide it (no text). */
export function showBanner(text) {
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

/** Say `text` to screen readers (#live-region). */
export function announce(text) {
  if (liveRegion && text) {
    liveRegion.textContent = text;
  }
}

/** An error frame no concern claimed: its message is announced. */
export function announceError(frame) {
  announce(frame.message);
}
