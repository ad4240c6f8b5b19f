/*
 * Reactions (docs/protocol.md, "Reactions"): the chips under a message (emoji and count,
 * pressed when one's own reaction is there, the names of who reacted as a tooltip); a
 * click toggles one's reaction (reaction.add / reaction.remove: the ack and
 * message.reactions bring the result to every reader). "React" in a message's menu opens
 * the picker: the site's emoji with a search by name in the page's language; arrows move,
 * Enter picks, Esc closes it and gives the focus back.
 */

import { announce, t } from "./i18n.js";
import { $, $$, config, roomSlug, textSpan } from "./page.js";
import { nextId, send } from "./socket.js";

let picker = null; // {dialog, node, returnTo}

function nameOf(userId) {
  const name = $('#participants li[data-user-id="' + String(Number(userId)) + '"] .scc-participant-name');
  return name ? name.textContent : t("someone");
}

function chip(reaction) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "scc-reaction";
  button.setAttribute("data-emoji", reaction.emoji);
  const mine = reaction.user_ids.some((id) => String(id) === String(config.userId));
  button.setAttribute("aria-pressed", String(mine));
  button.title = reaction.user_ids.map(nameOf).join(", ");
  button.append(textSpan("scc-reaction-emoji", reaction.emoji), " ", textSpan("scc-reaction-count", String(reaction.count)));
  return button;
}

/** Show the reactions of message `node` from its payload. */
export function showReactions(node, message) {
  const bar = $(".scc-reactions", node);
  if (!bar) {
    return;
  }
  const reactions = message.is_deleted ? [] : message.reactions || [];
  bar.replaceChildren(...reactions.map(chip));
  bar.hidden = reactions.length === 0;
}

function mineAlready(node, emoji) {
  return $$(".scc-reaction", node).some(function (button) {
    return button.getAttribute("data-emoji") === emoji && button.getAttribute("aria-pressed") === "true";
  });
}

function toggle(node, emoji) {
  const frame = {
    type: mineAlready(node, emoji) ? "reaction.remove" : "reaction.add",
    room: roomSlug,
    message_id: Number(node.getAttribute("data-id")),
    emoji: emoji,
    id: nextId(),
  };
  if (!send(frame)) {
    announce(t("reactionNotSent"));
  }
}

/** Close the picker (the focus goes back where it was when `refocus`). */
export function closePicker(refocus) {
  if (!picker) {
    return;
  }
  const open = picker;
  picker = null;
  open.dialog.remove();
  if (refocus && open.returnTo && open.returnTo.isConnected) {
    open.returnTo.focus();
  }
}

function visibleChoices() {
  return picker ? $$(".scc-picker-grid button:not([hidden])", picker.dialog) : [];
}

function onPickerKey(event) {
  const choices = visibleChoices();
  const index = choices.indexOf(document.activeElement);
  const columns = 6;
  const step = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: columns, ArrowUp: -columns }[event.key];
  if (event.key === "Escape") {
    event.preventDefault();
    event.stopPropagation();
    closePicker(true);
  } else if (event.key === "Enter" && event.target.type === "search" && choices.length) {
    event.preventDefault();
    choices[0].click();
  } else if (step && index >= 0) {
    event.preventDefault();
    const next = choices[Math.min(choices.length - 1, Math.max(0, index + step))];
    next.focus();
  } else if (event.key === "ArrowDown" && event.target.type === "search" && choices.length) {
    event.preventDefault();
    choices[0].focus();
  }
}

/** Open the picker on message `node`; `returnTo` gets the focus back when it closes. */
export function openPicker(node, returnTo) {
  closePicker(false);
  const dialog = document.createElement("div");
  dialog.className = "scc-picker";
  dialog.setAttribute("role", "dialog");
  dialog.setAttribute("aria-label", t("addReaction"));
  const search = document.createElement("input");
  search.type = "search";
  search.className = "form-control form-control-sm";
  search.placeholder = t("searchEmoji");
  search.setAttribute("aria-label", t("searchEmoji"));
  const grid = document.createElement("div");
  grid.className = "scc-picker-grid";
  (config.reactionChoices || []).forEach(function (choice) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = choice.emoji;
    button.title = choice.name;
    button.setAttribute("aria-label", choice.name);
    button.setAttribute("data-name", choice.name.toLowerCase());
    button.addEventListener("click", function () {
      closePicker(true);
      toggle(node, choice.emoji);
    });
    grid.appendChild(button);
  });
  const none = textSpan("scc-picker-empty small text-body-secondary", t("noEmoji"));
  none.hidden = true;
  search.addEventListener("input", function () {
    const words = search.value.trim().toLowerCase();
    $$("button", grid).forEach(function (button) {
      button.hidden = !!words && !button.getAttribute("data-name").includes(words);
    });
    none.hidden = visibleChoices().length > 0;
  });
  dialog.append(search, grid, none);
  dialog.addEventListener("keydown", onPickerKey);
  ($(".scc-bubble", node) || node).appendChild(dialog);
  picker = { dialog: dialog, node: node, returnTo: returnTo };
  search.focus();
}

export function init() {
  document.addEventListener("click", function (event) {
    const button = event.target.closest && event.target.closest("#message-list .scc-reaction");
    const node = button && button.closest("li.scc-message[data-id]");
    if (node) {
      toggle(node, button.getAttribute("data-emoji"));
    }
  });
  document.addEventListener("pointerdown", function (event) {
    if (picker && !picker.dialog.contains(event.target)) {
      closePicker(false);
    }
  });
}
