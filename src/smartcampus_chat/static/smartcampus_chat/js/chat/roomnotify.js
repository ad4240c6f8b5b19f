/*
 * A room's notifications: the room header's "Notifications" menu (a <details> disclosure;
 * includes/room_notify_form.html) and muted rooms in the sidebar. Each choice of the menu
 * is a submit button of a form that works without JavaScript (room/<slug>/notifications/);
 * here it goes to the REST API instead (PUT rooms/<slug>/notifications/, `level` and
 * `muted_until`), and the menu, its icon and the room's item in the list follow the answer.
 * A muted room is dimmed in the list (`.scc-muted`, "muted" for screen readers) and left
 * out of the tab title's count (title.js) until its mute ends.
 */

import { emit } from "./bus.js";
import { format, t } from "./i18n.js";
import { $, $$, config, textSpan } from "./page.js";

const settings = config.notifications || null;
const OPEN = "details.scc-notify-menu[open]";
const FOREVER_YEAR = 9999;
const MAX_TIMER = 2147483647; // setTimeout's largest delay (ms)
const timers = {}; // room slug -> the timer that ends its mute in the list

function roomItem(slug) {
  return $('#my-rooms li[data-room="' + String(slug).replace(/[^a-zA-Z0-9_-]/g, "") + '"]');
}

function csrfToken(form) {
  const input = $('input[name="csrfmiddlewaretoken"]', form);
  return input ? input.value : "";
}

function mutedText(until) {
  if (until.getUTCFullYear() >= FOREVER_YEAR) {
    return t("mutedForever");
  }
  const time = new Intl.DateTimeFormat(config.locale, {
    dateStyle: "medium",
    timeStyle: "short",
    timeZone: config.timeZone,
    hour12: config.hour12,
  }).format(until);
  return format(t("mutedUntil"), { time: time });
}

/** Whether a room of the list is muted now (its item's mark). */
export function isMuted(item) {
  return item.classList.contains("scc-muted");
}

/* The crossed bell of a room of the list (includes/room_card.html: an image named
   "muted", a leaf), made for a room added live. */
function mutedMark(item) {
  let mark = $(".scc-muted-mark", item);
  if (!mark) {
    mark = textSpan("bi bi-bell-slash scc-muted-mark", "");
    mark.setAttribute("role", "img");
    mark.setAttribute("aria-label", t("muted"));
    $(".scc-room-label", item).after(mark);
  }
  return mark;
}

/* The list shows room `slug` muted until `iso` (null: not muted), and un-dims it then. */
function showMutedInList(slug, iso) {
  const item = roomItem(slug);
  clearTimeout(timers[slug]);
  if (!item) {
    return;
  }
  const until = iso ? new Date(iso) : null;
  const muted = !!until && until.getTime() > Date.now();
  item.classList.toggle("scc-muted", muted);
  mutedMark(item).hidden = !muted;
  if (muted) {
    item.setAttribute("data-muted-until", iso);
    const wait = until.getTime() - Date.now();
    if (wait < MAX_TIMER) {
      timers[slug] = setTimeout(function () {
        showMutedInList(slug, null);
      }, wait);
    }
  } else {
    item.removeAttribute("data-muted-until");
  }
  emit("unread:changed");
}

/* The menu's form shows `setting` ({level, effective_level, muted_until}). */
function showSetting(form, setting) {
  form.setAttribute("data-level", setting.level || "");
  form.setAttribute("data-muted-until", setting.muted_until || "");
  const until = setting.muted_until ? new Date(setting.muted_until) : null;
  const muted = !!until && until.getTime() > Date.now();
  $$('button[name="level"]', form).forEach(function (button) {
    button.setAttribute("aria-pressed", String(button.value === setting.effective_level));
  });
  const text = $(".scc-notify-muted", form);
  text.hidden = !muted;
  text.textContent = muted ? mutedText(until) : "";
  $(".scc-unmute", form).hidden = !muted;
  const menu = form.closest("details.scc-notify-menu");
  const mark = menu && $(".scc-notify-menu-icon", menu);
  if (mark) {
    const silent = muted || setting.effective_level === "nothing";
    mark.classList.toggle("bi-bell-slash", silent);
    mark.classList.toggle("bi-bell", !silent);
  }
  showMutedInList(form.getAttribute("data-room"), muted ? setting.muted_until : null);
}

/* What a choice asks: the level kept or changed, the mute set, kept or ended. */
function wanted(form, button) {
  const setting = {
    level: form.getAttribute("data-level") || "",
    muted_until: form.getAttribute("data-muted-until") || null,
  };
  if (button.name === "level") {
    setting.level = button.value;
  } else if (button.value === "off") {
    setting.muted_until = null;
  } else if (button.value === "forever") {
    setting.muted_until = settings.mutedForever;
  } else {
    setting.muted_until = new Date(Date.now() + settings.muteFor[button.value] * 1000).toISOString();
  }
  return setting;
}

function problem(form, text) {
  const node = $(".scc-notify-problem", form);
  node.textContent = text || "";
  node.hidden = !text;
}

function onSubmit(event) {
  const form = event.target;
  const button = event.submitter;
  if (!form.matches || !form.matches("form.scc-notify-form") || !button || !button.name) {
    return;
  }
  event.preventDefault();
  const slug = form.getAttribute("data-room");
  problem(form, null);
  window
    .fetch(settings.roomUrl.replace("__slug__", encodeURIComponent(slug)), {
      method: "PUT",
      credentials: "same-origin",
      headers: { Accept: "application/json", "Content-Type": "application/json", "X-CSRFToken": csrfToken(form) },
      body: JSON.stringify(wanted(form, button)),
    })
    .then(function (response) {
      return response.json().then(function (body) {
        if (!response.ok) {
          throw new Error((body && body.error && body.error.message) || t("notifySettingFailed"));
        }
        return body;
      });
    })
    .then(function (setting) {
      showSetting(form, setting);
      const menu = form.closest("details.scc-notify-menu");
      if (menu) {
        menu.open = false;
        $("summary", menu).focus();
      }
    })
    .catch(function (error) {
      problem(form, error && error.message ? error.message : t("notifySettingFailed"));
    });
}

export function init() {
  $$("#my-rooms li[data-muted-until]").forEach(function (item) {
    showMutedInList(item.getAttribute("data-room"), item.getAttribute("data-muted-until"));
  });
  if (!settings || !settings.roomUrl || !window.fetch) {
    return; // the menu's forms post to the room's notifications page
  }
  document.addEventListener("submit", onSubmit);
  document.addEventListener("keydown", function (event) {
    const menu = event.key === "Escape" && event.target.closest && event.target.closest(OPEN);
    if (menu) {
      event.preventDefault();
      menu.open = false;
      $("summary", menu).focus();
    }
  });
  document.addEventListener("click", function (event) {
    const inside = event.target.closest ? event.target.closest("details.scc-notify-menu") : null;
    $$(OPEN).forEach(function (menu) {
      if (menu !== inside) {
        menu.open = false;
      }
    });
  });
}
