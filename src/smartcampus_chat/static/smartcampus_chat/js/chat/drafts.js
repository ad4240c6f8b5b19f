/*
 * Drafts: what the reader typed in a room's composer and did not send is kept per room in
 * sessionStorage, so it survives switching rooms and reloading the tab (not closing it).
 * It is saved when the room's pane goes (a switch) and when the page does (a reload).
 */

import { on } from "./bus.js";
import { $, roomSlug } from "./page.js";

const PREFIX = "scc-draft:";

function store(slug, text) {
  try {
    if (text) {
      window.sessionStorage.setItem(PREFIX + slug, text);
    } else {
      window.sessionStorage.removeItem(PREFIX + slug);
    }
  } catch (err) {
    // Storage refused (private mode, quota): drafts are only a comfort.
  }
}

function saved(slug) {
  try {
    return window.sessionStorage.getItem(PREFIX + slug) || "";
  } catch (err) {
    return "";
  }
}

function textarea() {
  return $("#composer textarea[name=content]");
}

function restore() {
  const field = textarea();
  if (roomSlug && field && !field.value) {
    field.value = saved(roomSlug);
  }
}

function keep() {
  const field = textarea();
  if (roomSlug && field) {
    store(roomSlug, field.value);
  }
}

export function init() {
  on("submit", function () {
    if (roomSlug) {
      store(roomSlug, "");
    }
  });
  on("room:close", keep);
  on("room:open", restore);
  window.addEventListener("pagehide", keep);
  restore();
}
