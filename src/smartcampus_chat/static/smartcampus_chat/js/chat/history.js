/*
 * Older history, loaded in place when the reader scrolls up to it. Without JavaScript
 * #older is a plain link to the older page; with it, the page grows and keeps its place
 * (the list scrolls with column-reverse: prepending does not move what is in view).
 */

import { on } from "./bus.js";
import { fill, findMessage, list, newMessageNode } from "./messages.js";
import { $, config } from "./page.js";
import { decorate } from "./timeline.js";

let olderLink = null;
let loadingOlder = false;
let olderObserver = null;

function prependOlder(messages) {
  // Before the first item, day separator and "new messages" divider included.
  const first = list.firstElementChild;
  messages.forEach(function (message) {
    if (findMessage(message.id)) {
      return;
    }
    const node = newMessageNode();
    node.classList.add("scc-history");
    fill(node, message);
    list.insertBefore(node, first);
  });
  decorate(list);
}

function watchOlder() {
  if (olderObserver && olderLink) {
    // Re-observing reports the current state: loads again while the link is still in view.
    olderObserver.unobserve(olderLink);
    olderObserver.observe(olderLink);
  }
}

function loadOlder() {
  const before = olderLink ? Number(olderLink.getAttribute("data-before")) : 0;
  if (loadingOlder || !before || !config.historyUrl || !list || !window.fetch) {
    return;
  }
  loadingOlder = true;
  olderLink.setAttribute("aria-busy", "true");
  const url = config.historyUrl + "?before=" + before + "&limit=" + Number(config.pageSize);
  window
    .fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (response) {
      if (!response.ok) {
        throw new Error("history " + response.status);
      }
      return response.json();
    })
    .then(function (page) {
      prependOlder(page.results || []);
      if (page.has_before && page.first_seq) {
        olderLink.setAttribute("data-before", String(page.first_seq));
        olderLink.setAttribute("href", "?before=" + page.first_seq);
      } else {
        (olderLink.parentNode || olderLink).remove();
        olderLink = null;
      }
    })
    .catch(function () {
      // The plain link still works: following it loads the older page.
    })
    .then(function () {
      loadingOlder = false;
      if (olderLink) {
        olderLink.removeAttribute("aria-busy");
        watchOlder();
      }
    });
}

export function init() {
  on("room:open", bind);
  bind();
}

/* Bind the pane's #older (at load, and each time the shell swaps a room in). */
function bind() {
  if (olderObserver) {
    olderObserver.disconnect();
    olderObserver = null;
  }
  loadingOlder = false;
  olderLink = $("#older");
  if (!olderLink || !config.historyUrl) {
    return;
  }
  olderLink.addEventListener("click", function (event) {
    event.preventDefault();
    loadOlder();
  });
  if (window.IntersectionObserver) {
    olderObserver = new IntersectionObserver(
      function (entries) {
        if (
          entries.some(function (entry) {
            return entry.isIntersecting;
          })
        ) {
          loadOlder();
        }
      },
      { root: $(".scc-scroll"), rootMargin: "200px 0px 0px 0px" }
    );
    olderObserver.observe(olderLink);
  }
}
