/*
 * @mentions: which messages mention the reader (their highlight, the room list's mention
 * badge), and the composer's autocomplete: typing "@" and the start of a name lists the
 * room's members (config.mentionsUrl, the API's members/mentionable/); arrows move, Enter
 * or Tab inserts, Esc closes. The list is announced (a listbox, aria-activedescendant on
 * the textarea, the count in the live region).
 */

import { on } from "./bus.js";
import { announce, plural, t } from "./i18n.js";
import { $, $$, config } from "./page.js";

/* A rendered mention, as the server writes it (smartcampus_chat.markup.mentions): read
   from the stored HTML as text, never parsed as a document here. */
const RENDERED = /<span class="scc-mention[^"]*" data-(user-id|mention)="(\d+|everyone)"/g;
/* "@" then the start of a name, just before the caret (not inside a word or an address). */
const TYPED = /(?:^|[^\w.+@/-])@([\w.+-]{0,30})$/;
const DELAY_MS = 150;

/** Whether `html` (a message's content_html) mentions the reader or everyone. */
export function mentionsMe(html) {
  const me = String(config.userId);
  let found;
  RENDERED.lastIndex = 0;
  while ((found = RENDERED.exec(html || "")) !== null) {
    if (found[1] === "mention" || found[2] === me) {
      return true;
    }
  }
  return false;
}

/* The mentions of the reader in `root` (the server marks the message, not the span). */
function markSpans(root) {
  $$(".scc-mention", root).forEach(function (span) {
    const mine = span.getAttribute("data-mention") === "everyone" || span.getAttribute("data-user-id") === String(config.userId);
    span.classList.toggle("scc-mention-me", mine);
  });
}

/** Mark message `node` (content shown) when it mentions the reader, and the mentions of
    the reader in it. */
export function markMentions(node, message) {
  node.classList.toggle("scc-mentions-me", !message.is_deleted && mentionsMe(message.content_html));
  markSpans(node);
}

let box = null; // {textarea, list, items, active, start}
let timer = null;
let asked = 0;

function textarea() {
  return $("#composer textarea[name=content]");
}

function close() {
  if (!box) {
    return;
  }
  box.list.remove();
  box.textarea.removeAttribute("aria-activedescendant");
  box.textarea.removeAttribute("aria-controls");
  box = null;
}

function setActive(index) {
  if (!box || !box.items.length) {
    return;
  }
  box.active = (index + box.items.length) % box.items.length;
  box.items.forEach(function (item, n) {
    item.node.setAttribute("aria-selected", n === box.active ? "true" : "false");
  });
  const node = box.items[box.active].node;
  box.textarea.setAttribute("aria-activedescendant", node.id);
  node.scrollIntoView({ block: "nearest" });
}

function choose(index) {
  const area = box.textarea;
  const candidate = box.items[index].candidate;
  const caret = area.selectionStart;
  const text = candidate.insert + " ";
  area.setRangeText(text, box.start, caret, "end");
  close();
  area.focus();
  area.dispatchEvent(new Event("input", { bubbles: true }));
}

function show(area, start, candidates) {
  close();
  if (!candidates.length) {
    return;
  }
  const list = document.createElement("ul");
  list.id = "scc-mention-list";
  list.className = "scc-mention-list list-unstyled";
  list.setAttribute("role", "listbox");
  list.setAttribute("aria-label", t("mentionSomeone"));
  const items = candidates.map(function (candidate, index) {
    const node = document.createElement("li");
    node.id = "scc-mention-option-" + index;
    node.setAttribute("role", "option");
    node.textContent = candidate.name;
    if (candidate.insert !== candidate.name) {
      const hint = document.createElement("span");
      hint.className = "scc-mention-hint";
      hint.textContent = " " + candidate.insert;
      node.appendChild(hint);
    }
    node.addEventListener("mousedown", function (event) {
      event.preventDefault(); // keep the focus in the textarea
      choose(index);
    });
    list.appendChild(node);
    return { node: node, candidate: candidate };
  });
  area.insertAdjacentElement("afterend", list);
  area.setAttribute("aria-autocomplete", "list");
  area.setAttribute("aria-controls", list.id);
  box = { textarea: area, list: list, items: items, active: 0, start: start };
  setActive(0);
  announce(plural("mentionSuggestions", items.length));
}

function lookUp(area) {
  const before = area.value.slice(0, area.selectionStart);
  const typed = TYPED.exec(before);
  if (!typed || !config.mentionsUrl || !window.fetch || area.selectionStart !== area.selectionEnd) {
    close();
    return;
  }
  const start = area.selectionStart - typed[1].length - 1;
  const ask = ++asked;
  window
    .fetch(config.mentionsUrl + "?q=" + encodeURIComponent(typed[1]), {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
    .then(function (response) {
      return response.ok ? response.json() : [];
    })
    .then(function (candidates) {
      if (ask === asked && document.activeElement === area) {
        show(area, start, candidates);
      }
    })
    .catch(close);
}

function onKey(event) {
  if (!box || event.target !== box.textarea || event.isComposing) {
    return;
  }
  const moves = { ArrowDown: 1, ArrowUp: -1 };
  if (event.key in moves) {
    setActive(box.active + moves[event.key]);
  } else if (event.key === "Enter" || event.key === "Tab") {
    choose(box.active);
  } else if (event.key === "Escape") {
    close();
  } else {
    return;
  }
  // Before the composer's own keys (Enter sends, Esc cancels a reply).
  event.preventDefault();
  event.stopImmediatePropagation();
}

export function init() {
  document.addEventListener("keydown", onKey, true);
  document.addEventListener("input", function (event) {
    const area = textarea();
    if (event.target !== area) {
      return;
    }
    window.clearTimeout(timer);
    timer = window.setTimeout(function () {
      lookUp(area);
    }, DELAY_MS);
  });
  document.addEventListener("focusout", function (event) {
    if (box && event.target === box.textarea) {
      close();
    }
  });
  on("room:open", function () {
    close();
    markSpans($("#message-list"));
  });
  markSpans($("#message-list"));
}
