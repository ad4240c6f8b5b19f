/*
 * The shell's layout: the sidebar's sections collapse (a real button with aria-expanded)
 * and the details panel opens and closes; both states are remembered in localStorage.
 * On a phone the details panel starts closed.
 */

import { on } from "./bus.js";
import { $, $$ } from "./page.js";

const KEY = "scc-shell";
const shell = $("#scc-shell");
let state = load();

function load() {
  try {
    const value = JSON.parse(window.localStorage.getItem(KEY) || "{}");
    return value && typeof value === "object" ? value : {};
  } catch (err) {
    return {};
  }
}

function save() {
  try {
    window.localStorage.setItem(KEY, JSON.stringify(state));
  } catch (err) {
    // Storage refused: the layout is only not remembered.
  }
}

function setSection(button, expanded) {
  button.setAttribute("aria-expanded", expanded ? "true" : "false");
  const list = document.getElementById(button.getAttribute("aria-controls"));
  if (list) {
    list.hidden = !expanded;
  }
}

function detailsOpen() {
  if (typeof state.details === "boolean") {
    return state.details;
  }
  return !(window.matchMedia && window.matchMedia("(max-width: 575.98px)").matches);
}

function setDetails(open) {
  if (shell) {
    shell.classList.toggle("scc-details-closed", !open);
  }
  $$(".scc-details-toggle").forEach(function (button) {
    button.hidden = false;
    button.setAttribute("aria-expanded", open ? "true" : "false");
  });
}

export function init() {
  const collapsed = state.collapsed && typeof state.collapsed === "object" ? state.collapsed : {};
  state.collapsed = collapsed;
  $$(".scc-section-toggle").forEach(function (button) {
    const section = button.closest("[data-section]").getAttribute("data-section");
    setSection(button, !collapsed[section]);
    button.addEventListener("click", function () {
      const expanded = button.getAttribute("aria-expanded") !== "true";
      setSection(button, expanded);
      collapsed[section] = !expanded;
      save();
    });
  });
  document.addEventListener("click", function (event) {
    const button = event.target.closest ? event.target.closest(".scc-details-toggle") : null;
    if (button) {
      state.details = button.getAttribute("aria-expanded") !== "true";
      setDetails(state.details);
      save();
    }
  });
  on("room:open", function () {
    setDetails(detailsOpen());
  });
  setDetails(detailsOpen());
}
