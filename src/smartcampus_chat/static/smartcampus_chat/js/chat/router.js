/*
 * Switching rooms without a page load. A click on a shell link ([data-shell-link]: the
 * sidebar's rooms, the back button, "browse rooms") or the browser's back/forward fetches
 * the same URL with `?<config.paneParam>=1`, which the server answers with the main pane
 * alone (the very include the full page renders: one rendering path, escaped by the
 * templates), swaps it into #scc-pane and pushes the URL. The pane's #scc-pane-config
 * replaces the room's keys of `config` (page.js); the conversation modules rebind on the
 * bus's "room:open". Anything unexpected (an error page, a redirect to sign in, no fetch)
 * falls back to a plain navigation, which is what the link does without JavaScript.
 */

import { emit } from "./bus.js";
import { $, config, roomSlug, setPane } from "./page.js";
import { enterRoom, leaveRoom } from "./socket.js";

const shell = $("#scc-shell");
const paneHost = $("#scc-pane");
const scrollOf = {}; // room slug -> scrollTop of its history when the reader left it
let current = window.location.pathname + window.location.search;
let loading = null; // the URL being fetched: a newer click wins
let enabled = false; // init() found the shell and what it needs

function paneUrl(url) {
  const target = new URL(url, window.location.href);
  target.searchParams.set(config.paneParam, "1");
  return target.href;
}

function scroller() {
  return paneHost ? $(".scc-scroll", paneHost) : null;
}

/* The shell shows `root` (a parsed pane): swap it in and tell the modules. */
function show(root, focus) {
  const from = roomSlug;
  const scroll = scroller();
  if (from && scroll) {
    scrollOf[from] = scroll.scrollTop;
  }
  emit("room:close", { slug: from });
  leaveRoom();
  const data = $("#scc-pane-config", root);
  paneHost.replaceChildren(root);
  setPane(data ? JSON.parse(data.textContent || "{}") : { room: null });
  const body = $(".scc-pane-body", paneHost);
  shell.classList.toggle("scc-shell-open", !!body && body.hasAttribute("data-open"));
  enterRoom();
  emit("room:open", { slug: roomSlug, root: paneHost });
  const restored = roomSlug && scrollOf[roomSlug];
  const newScroll = scroller();
  if (newScroll && restored) {
    newScroll.scrollTop = restored;
  }
  if (focus) {
    const target = $("#composer textarea[name=content]", paneHost) || $("h1", paneHost);
    if (target) {
      if (!target.hasAttribute("tabindex") && target.tagName === "H1") {
        target.setAttribute("tabindex", "-1");
      }
      target.focus({ preventScroll: true });
    }
  }
}

/* Load the pane of `url`; push it to the history unless it came from back/forward. */
function go(url, push, focus) {
  const target = new URL(url, window.location.href);
  const key = target.pathname + target.search;
  loading = key;
  window
    .fetch(paneUrl(target.href), { credentials: "same-origin", headers: { Accept: "text/html" } })
    .then(function (response) {
      if (!response.ok || response.redirected) {
        throw new Error("pane " + response.status);
      }
      return response.text();
    })
    .then(function (html) {
      if (loading !== key) {
        return; // a newer switch started meanwhile
      }
      const parsed = new DOMParser().parseFromString(html, "text/html");
      const root = parsed.body.firstElementChild;
      if (!root) {
        throw new Error("empty pane");
      }
      loading = null;
      current = key;
      if (push) {
        window.history.pushState({ scc: true }, "", target.href);
      }
      show(document.adoptNode(root), focus);
    })
    .catch(function () {
      if (loading === key) {
        window.location.assign(target.href); // the page itself says what went wrong
      }
    });
}

function onClick(event) {
  const link = event.target.closest ? event.target.closest("a[data-shell-link]") : null;
  if (
    !link ||
    event.defaultPrevented ||
    event.button !== 0 ||
    event.metaKey ||
    event.ctrlKey ||
    event.shiftKey ||
    event.altKey ||
    link.origin !== window.location.origin
  ) {
    return;
  }
  event.preventDefault();
  if (link.pathname + link.search === current && !loading) {
    shell.classList.toggle("scc-shell-open", !!$(".scc-pane-body[data-open]", paneHost));
    return;
  }
  go(link.href, true, true);
}

function onPopState() {
  const key = window.location.pathname + window.location.search;
  if (key !== current) {
    go(window.location.href, false, false);
  }
}

/** Load the open room's pane again (a purge left a gap the client cannot fill): the
    shell's swap, or a plain reload without it. */
export function reloadPane() {
  if (enabled) {
    go(window.location.href, false, false);
  } else {
    window.location.reload();
  }
}

export function init() {
  if (!shell || !paneHost || !window.fetch || !window.DOMParser || !window.history.pushState) {
    return; // plain links, as without JavaScript
  }
  enabled = true;
  window.history.replaceState({ scc: true }, "");
  document.addEventListener("click", onClick);
  window.addEventListener("popstate", onPopState);
}
