/*
 * The tab's title and favicon show unread activity: "(3) General · SmartCampus" and a dot
 * on the icon while any listed room that is not muted has unread messages (the sidebar's
 * badges are the count; a mention is one of them; a muted room counts again when its mute
 * ends). The bell counts notifications, on its own. The favicon is a static file
 * (config.faviconUrl / faviconUnreadUrl): no inline data, whatever the Content Security
 * Policy.
 */

import { on } from "./bus.js";
import { format, t } from "./i18n.js";
import { $, $$, config } from "./page.js";

// What the base template puts around the page's own title (config.title): "%(title)s ·
// SmartCampus" on the example site. Read once from the title the server rendered.
const around = (function () {
  const own = String(config.title || "");
  const rendered = String(document.title || "");
  const index = own ? rendered.indexOf(own) : -1;
  if (index < 0) {
    return null;
  }
  return [rendered.slice(0, index), rendered.slice(index + own.length)];
})();

function pageTitle() {
  return around ? around[0] + config.title + around[1] : config.title;
}

function unread() {
  return $$("#my-rooms li[data-room]:not(.scc-muted) .scc-unread").reduce(function (sum, badge) {
    return sum + (badge.hidden ? 0 : Number(badge.textContent) || 0);
  }, 0);
}

function update() {
  const count = unread();
  const title = pageTitle();
  document.title = count > 0 ? format(t("titleUnread"), { count: count, title: title }) : title;
  const icon = $("#scc-favicon");
  const href = count > 0 ? config.faviconUnreadUrl : config.faviconUrl;
  if (icon && icon.getAttribute("href") !== href) {
    icon.setAttribute("href", href);
  }
}

export function init() {
  on("unread:changed", update);
  on("room:open", update);
  update();
}
