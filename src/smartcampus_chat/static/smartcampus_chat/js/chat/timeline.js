/*
 * How the list reads, the same rules as the server's (smartcampus_chat.web.timeline):
 * consecutive messages of one author less than 5 minutes apart form a group (.scc-grouped:
 * the author shows once), a day change gets a separator (li.scc-day-separator: "Today",
 * "Yesterday", a date) and breaks a group, and so does the "new messages" divider
 * (li.scc-divider). Applied to the whole list after each change: live, older history,
 * pending messages. It also keeps the list one tab stop (focus.js).
 */

import { dayKey, dayLabel } from "./dates.js";
import { $$ } from "./page.js";

const GROUP_GAP_MS = 5 * 60 * 1000;

// node -> {date, key}: read once per message (the list is regrouped after every change,
// a burst of frames would read every message again for each); forget() drops it.
const seen = new WeakMap();

/** A message's time changed (acked, re-rendered): read it again at the next decorate. */
export function forget(node) {
  seen.delete(node);
}

function read(node) {
  let known = seen.get(node);
  if (!known) {
    const time = node.querySelector("time.scc-time");
    const value = (time && time.getAttribute("datetime")) || node.getAttribute("data-created") || "";
    const parsed = new Date(value);
    const date = isNaN(parsed.getTime()) ? new Date() : parsed;
    const button = node.querySelector(".scc-menu-button");
    if (button && button.hidden) {
      button.hidden = false;
    }
    known = { date: date, key: dayKey(date) };
    seen.set(node, known);
  }
  return known;
}

function separator(key, date) {
  const li = document.createElement("li");
  li.className = "scc-day-separator";
  li.setAttribute("data-day", key);
  const label = document.createElement("span");
  label.className = "scc-day-label";
  label.textContent = dayLabel(date);
  li.appendChild(label);
  return li;
}

/** Make message `node` a tab stop of the list or not (focus.js moves the one stop);
    its menu button follows. */
export function setTabStop(node, on) {
  node.setAttribute("tabindex", on ? "0" : "-1");
  const button = node.querySelector(".scc-menu-button");
  if (button) {
    button.setAttribute("tabindex", on ? "0" : "-1");
  }
}

/** Group the messages of `list` and put its day separators where they belong. */
export function decorate(list) {
  if (!list) {
    return;
  }
  const kept = new Set();
  let previous = null;
  let previousKey = null;
  let divided = false;
  let stop = null;
  Array.prototype.forEach.call(list.children, function (child) {
    if (child.classList.contains("scc-divider")) {
      divided = true;
      return;
    }
    if (!child.classList.contains("scc-message")) {
      return;
    }
    const known = read(child);
    const date = known.date;
    const key = known.key;
    if (key !== previousKey) {
      // Before the divider when the divider opens the day, as the server renders it.
      let anchor = child;
      if (anchor.previousElementSibling && anchor.previousElementSibling.classList.contains("scc-divider")) {
        anchor = anchor.previousElementSibling;
      }
      const before = anchor.previousElementSibling;
      if (before && before.classList.contains("scc-day-separator") && !before.hasAttribute("data-day")) {
        before.setAttribute("data-day", key); // rendered by the server: its text stays
      }
      if (before && before.classList.contains("scc-day-separator") && before.getAttribute("data-day") === key) {
        kept.add(before);
      } else {
        const node = separator(key, date);
        list.insertBefore(node, anchor);
        kept.add(node);
      }
    }
    const sender = child.getAttribute("data-sender-id");
    const grouped =
      !!previous &&
      !divided &&
      key === previousKey &&
      !!sender &&
      sender === previous.node.getAttribute("data-sender-id") &&
      date - previous.date < GROUP_GAP_MS;
    if (child.classList.contains("scc-grouped") !== grouped) {
      child.classList.toggle("scc-grouped", grouped);
    }
    if (child.getAttribute("tabindex") === "0") {
      stop = child;
    } else if (!child.hasAttribute("tabindex")) {
      setTabStop(child, false);
    }
    previous = { node: child, date: date };
    previousKey = key;
    divided = false;
  });
  $$("li.scc-day-separator", list).forEach(function (node) {
    if (!kept.has(node)) {
      node.remove();
    }
  });
  // The list is one tab stop (focus.js): the newest message unless the reader chose one.
  if (!stop && previous) {
    setTabStop(previous.node, true);
  }
}
