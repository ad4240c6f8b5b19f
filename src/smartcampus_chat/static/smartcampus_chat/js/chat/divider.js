/*
 * Where the reader is: the "new messages" divider (li.scc-divider, rendered by the server
 * at the reader's read marker) is brought into view when the room opens, and while the
 * reader is scrolled up to older messages, new ones count on the jump-to-latest button
 * (.scc-jump) instead of pulling the view away. The button, or scrolling back down,
 * clears the count.
 */

import { on } from "./bus.js";
import { format, t } from "./i18n.js";
import { list } from "./messages.js";
import { $ } from "./page.js";

// How far from the newest message (px) still counts as "at the latest".
const NEAR_BOTTOM = 80;

function reducedMotion() {
  return window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
}

// The open pane: its scroller, jump button and count (null: no conversation open).
let pane = null;
// Arrivals not yet counted: counted in batches, because reading the scroll position lays
// the page out, and a burst of frames would lay it out once per message.
let arrived = 0;
let timer = null;

function atLatest(current) {
  // The list scrolls with column-reverse: 0 is the bottom, older messages are negative.
  return Math.abs(current.scroller.scrollTop) <= NEAR_BOTTOM;
}

function show(current) {
  if (current.unseen > 0) {
    current.label.textContent = format(t("jumpToLatest"), { count: current.unseen });
    current.jump.hidden = false;
  } else {
    current.jump.hidden = true;
  }
}

function onArrived() {
  arrived += 1;
  if (timer) {
    return;
  }
  timer = setTimeout(function () {
    timer = null;
    if (pane && !atLatest(pane)) {
      pane.unseen += arrived;
      show(pane);
    }
    arrived = 0;
  }, 100);
}

/* Bind the pane's list (at load, and each time the shell swaps a room in). */
function bind() {
  pane = null;
  const scroller = list && list.closest(".scc-scroll");
  const jump = scroller && $(".scc-jump", scroller.parentNode);
  if (!scroller || !jump) {
    return;
  }
  const current = { scroller: scroller, jump: jump, label: $(".scc-jump-label", jump) || jump, unseen: 0 };
  pane = current;
  scroller.addEventListener(
    "scroll",
    function () {
      if (current.unseen && atLatest(current)) {
        current.unseen = 0;
        show(current);
      }
    },
    { passive: true }
  );
  jump.addEventListener("click", function () {
    current.unseen = 0;
    show(current);
    scroller.scrollTo({ top: 0, behavior: reducedMotion() ? "auto" : "smooth" });
    const box = $("#composer textarea[name=content]");
    if (box && !box.disabled) {
      box.focus({ preventScroll: true });
    }
  });
  const divider = $("li.scc-divider", list);
  if (divider && !window.location.hash) {
    divider.scrollIntoView({ block: "center" });
  }
}

export function init() {
  on("arrived", onArrived);
  on("room:open", bind);
  bind();
}
