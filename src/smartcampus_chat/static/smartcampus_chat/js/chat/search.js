/*
 * Message search (docs/search.md): the search boxes (includes/search_form.html: the
 * sidebar's, across my rooms; the details panel's, in this room) answered in place over
 * the socket (`search` -> `search.results`), in a list under the form. Without an open
 * socket the form goes to the results page, as it does without JavaScript.
 *
 * Each result is a link to its message (`url`: the room scrolled to it). The count is
 * announced to screen readers; "More results" asks for the next page; Escape closes the
 * list. `snippet_html` holds escaped text and <mark> only (the server's contract); it is
 * still rebuilt here from text and <mark> elements alone, never inserted as HTML.
 */

import { formatFull } from "./dates.js";
import { snippetNodes } from "./format.js";
import { announce, authorName, format, t } from "./i18n.js";
import { textSpan } from "./page.js";
import { nextId, send } from "./socket.js";

/** Frame id -> the form it answers, and whether its results add to the list shown. */
const pending = new Map();

function panelOf(form) {
  let panel = form.nextElementSibling;
  if (!panel || !panel.classList.contains("scc-search-panel")) {
    panel = document.createElement("section");
    panel.className = "scc-search-panel";
    panel.setAttribute("aria-label", form.querySelector("label").textContent);
    panel.hidden = true;
    form.after(panel);
  }
  return panel;
}

/** Ask the server; false when the socket is not open (the form is then submitted). */
function ask(form, cursor) {
  const frame = { type: "search", q: form.elements.namedItem("q").value, id: nextId() };
  const room = form.getAttribute("data-search-room");
  if (room) {
    frame.room = room;
  }
  if (cursor) {
    frame.cursor = cursor;
  }
  if (!send(frame)) {
    return false;
  }
  pending.set(frame.id, { form: form, more: !!cursor });
  panelOf(form).setAttribute("aria-busy", "true");
  return true;
}

function hitItem(hit) {
  const item = document.createElement("li");
  item.className = "list-group-item scc-search-hit";
  item.setAttribute("data-message-id", String(Number(hit.id)));
  const link = document.createElement("a");
  link.className = "scc-search-link d-block text-reset text-decoration-none";
  // A path of this site only (the server writes "/…/?message=<id>").
  link.href = /^\/(?!\/)/.test(hit.url) ? hit.url : "#";
  const meta = document.createElement("span");
  meta.className = "d-flex gap-2 small text-body-secondary";
  const time = document.createElement("time");
  time.dateTime = hit.created_at;
  time.textContent = formatFull(hit.created_at);
  meta.append(textSpan("scc-search-room", hit.room.title), textSpan("scc-search-author me-auto", authorName(hit)), time);
  const snippet = textSpan("d-block scc-search-snippet", "");
  snippet.append(snippetNodes(hit.snippet_html));
  link.append(meta, snippet);
  item.append(link);
  return item;
}

function countText(n, more) {
  if (n === 0) {
    return t("searchNone");
  }
  const lang = document.documentElement.lang || "en";
  const form = window.Intl && Intl.PluralRules ? new Intl.PluralRules(lang).select(n) : n === 1 ? "one" : "other";
  return format(form === "one" ? t("searchResults_one") : t("searchResults_other"), { count: n }) + (more ? "+" : "");
}

function close(panel) {
  panel.hidden = true;
  panel.replaceChildren();
}

function render(panel, form, frame, more) {
  let list = panel.querySelector(".scc-search-results");
  if (!more || !list) {
    panel.replaceChildren();
    const head = document.createElement("div");
    head.className = "d-flex align-items-center gap-2 mt-2";
    const count = textSpan("scc-search-count small me-auto", "");
    const closer = document.createElement("button");
    closer.type = "button";
    closer.className = "btn btn-sm btn-light scc-search-close";
    closer.textContent = t("searchClose");
    closer.addEventListener("click", function () {
      close(panel);
      form.elements.namedItem("q").focus();
    });
    head.append(count, closer);
    list = document.createElement("ol");
    list.className = "list-group scc-search-results mt-1";
    panel.append(head, list);
  }
  frame.results.forEach(function (hit) {
    list.append(hitItem(hit));
  });
  const old = panel.querySelector(".scc-search-next");
  if (old) {
    old.remove();
  }
  if (frame.next) {
    const next = document.createElement("button");
    next.type = "button";
    next.className = "btn btn-outline-secondary btn-sm mt-1 scc-search-next";
    next.textContent = t("searchMore");
    next.addEventListener("click", function () {
      ask(form, frame.next);
    });
    panel.append(next);
  }
  const text = countText(list.children.length, !!frame.next);
  panel.querySelector(".scc-search-count").textContent = text;
  panel.removeAttribute("aria-busy");
  panel.hidden = false;
  announce(text);
}

/** `search.results`: the list under the form that asked. */
export function onResults(frame) {
  const asked = pending.get(frame.id);
  if (!asked) {
    return;
  }
  pending.delete(frame.id);
  render(panelOf(asked.form), asked.form, frame, asked.more);
}

/** An error answering one of our searches: said under the form (and announced). */
export function searchRefused(frame) {
  const asked = frame.id == null ? null : pending.get(frame.id);
  if (!asked) {
    return false;
  }
  pending.delete(frame.id);
  const panel = panelOf(asked.form);
  panel.replaceChildren(textSpan("d-block alert alert-warning small mt-2 py-1 px-2 scc-search-error", frame.message));
  panel.querySelector(".scc-search-error").setAttribute("data-code", frame.code);
  panel.removeAttribute("aria-busy");
  panel.hidden = false;
  announce(frame.message);
  return true;
}

export function init() {
  // Delegated: the room's form comes and goes with the pane.
  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.classList.contains("scc-search-form")) {
      return;
    }
    if (ask(form, null)) {
      event.preventDefault();
      announce(t("searching"));
    }
  });
  document.addEventListener("keydown", function (event) {
    const target = event.target instanceof Element ? event.target : null;
    if (event.key !== "Escape" || !target) {
      return;
    }
    const inPanel = target.closest(".scc-search-panel");
    const form = inPanel ? inPanel.previousElementSibling : target.closest(".scc-search-form");
    if (form && form.classList.contains("scc-search-form") && !panelOf(form).hidden) {
      close(panelOf(form));
      form.elements.namedItem("q").focus();
    }
  });
}
