/*
 * "Formatting" under the composer: a <details> disclosure (it opens and closes by keyboard
 * and without JavaScript). This adds what a popover is expected to do: Escape closes it and
 * gives the focus back to its button, a click elsewhere closes it.
 */

import { $$ } from "./page.js";

const OPEN = "details.scc-format-help[open]";

function closeAll(except) {
  $$(OPEN).forEach(function (details) {
    if (details !== except) {
      details.open = false;
    }
  });
}

export function init() {
  document.addEventListener("keydown", function (event) {
    const details = event.key === "Escape" && event.target.closest && event.target.closest(OPEN);
    if (details) {
      event.preventDefault();
      details.open = false;
      details.querySelector("summary").focus();
    }
  });
  document.addEventListener("click", function (event) {
    closeAll(event.target.closest ? event.target.closest("details.scc-format-help") : null);
  });
}
