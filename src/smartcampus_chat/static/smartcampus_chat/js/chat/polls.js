/*
 * Polls (docs/polls.md). A message's poll renders as a fieldset of radio buttons (one
 * answer) or checkboxes (several), a Vote button, and its results: a bar per option with
 * the percentage and the count as text (what screen readers read), the number of voters
 * in a polite live region. poll.updated replaces the results live (poll.my_votes is null
 * there: the reader's own choice is kept), poll.voted says the reader's choice (on each of
 * their sockets). A poll past its closes_at shows itself closed at that time; the server
 * refuses late votes anyway. Its author and the room's moderators get "Close poll".
 * "Create poll" (the composer's button, for those allowed) opens #scc-poll-dialog, whose
 * form sends a message.send with the poll; its question is the message's text.
 */

import { on } from "./bus.js";
import { formatFull } from "./dates.js";
import { announce, format, plural, t } from "./i18n.js";
import { $, $$, config, isMe, roomSlug } from "./page.js";
import { nextId, noteEventSeq, send } from "./socket.js";

/** The poll state each message node shows, by message id (with the reader's choice). */
const states = {};
/** Frame ids of the reader's votes, closes and creations in flight: id -> message id. */
const inFlight = {};
const timers = {};
let creating = null;

function box(node) {
  return $(".scc-poll", node);
}

function senderIdOf(node) {
  return node.getAttribute("data-sender-id") || "";
}

function canClose(node) {
  const sender = senderIdOf(node);
  return !!config.canModerate || (!!sender && isMe({ id: sender }));
}

function element(tag, className, text) {
  const el = document.createElement(tag);
  if (className) {
    el.className = className;
  }
  if (text !== undefined) {
    el.textContent = text;
  }
  return el;
}

function isClosed(poll) {
  return !!poll.closed || (!!poll.closes_at && new Date(poll.closes_at) <= new Date());
}

/* At its closing time, show the poll closed (no frame comes for that). */
function scheduleClose(id, poll) {
  clearTimeout(timers[id]);
  if (poll.closed || !poll.closes_at) {
    return;
  }
  const delay = new Date(poll.closes_at) - new Date();
  if (delay > 0 && delay < 2147483647) {
    timers[id] = setTimeout(function () {
      const node = document.getElementById("message-" + id);
      if (node && states[id]) {
        render(node, states[id]);
      }
    }, delay + 50);
  }
}

function statusText(poll) {
  const parts = [t(poll.multiple ? "pollMultiple" : "pollSingle")];
  if (poll.anonymous) {
    parts.push(t("pollAnonymous"));
  }
  if (!isClosed(poll) && poll.closes_at) {
    parts.push(format(t("pollClosesAt"), { time: formatFull(poll.closes_at) }));
  }
  return parts.join(" ");
}

/* The poll of message `node` as `poll` says (its my_votes a list). */
function render(node, poll) {
  const id = node.getAttribute("data-id");
  const root = box(node);
  if (!root || !id) {
    return;
  }
  root.hidden = false;
  root.removeAttribute("data-poll");
  root.textContent = "";
  const closed = isClosed(poll);
  const mine = poll.my_votes || [];
  const votable = !closed && !!config.canVote;
  const form = element("form", "scc-poll-form");
  const fieldset = element("fieldset", "scc-poll-fieldset");
  const legend = element("legend", "scc-poll-legend small mb-1", t("pollLabel"));
  if (closed) {
    const label = element("strong", "scc-poll-closed-label ms-1", t("pollClosed"));
    legend.append(" ", label);
  }
  const status = element("p", "scc-poll-status small mb-1", statusText(poll));
  status.id = "scc-poll-" + id + "-status";
  fieldset.setAttribute("aria-describedby", status.id);
  const options = element("ul", "scc-poll-options list-unstyled mb-1");
  poll.options.forEach(function (option) {
    const percent = poll.voters ? Math.round((100 * option.votes) / poll.voters) : 0;
    const item = element("li", "scc-poll-option");
    item.classList.toggle("scc-poll-mine", mine.indexOf(option.id) !== -1);
    const input = element("input", "form-check-input scc-poll-input");
    input.type = poll.multiple ? "checkbox" : "radio";
    input.name = "poll-" + id;
    input.value = String(option.id);
    input.id = "scc-poll-" + id + "-option-" + option.id;
    input.checked = mine.indexOf(option.id) !== -1;
    input.disabled = !votable;
    const label = element("label", "form-check-label scc-poll-text", option.text);
    label.htmlFor = input.id;
    const result = element("span", "scc-poll-result small");
    result.id = input.id + "-result";
    result.textContent = percent + "% · " + plural("pollVotes", option.votes);
    input.setAttribute("aria-describedby", result.id);
    const bar = element("span", "scc-poll-bar");
    bar.setAttribute("aria-hidden", "true");
    const fill = element("span", "scc-poll-bar-fill");
    fill.style.width = percent + "%";
    bar.appendChild(fill);
    const line = element("span", "form-check mb-0 scc-poll-choice");
    line.append(input, label);
    item.append(line, result, bar);
    if (option.voters && option.voters.length) {
      const names = option.voters.map(function (voter) {
        return voter.name;
      });
      item.appendChild(element("span", "scc-poll-voters small", format(t("pollVotedBy"), { names: names.join(", ") })));
    }
    options.appendChild(item);
  });
  const total = element("p", "scc-poll-total small mb-1", plural("pollVoters", poll.voters));
  total.setAttribute("role", "status");
  const error = element("p", "text-danger small scc-poll-error");
  error.setAttribute("role", "alert");
  error.hidden = true;
  fieldset.append(legend, status, options, total, error);
  const actions = element("div", "d-flex gap-2 scc-poll-actions");
  if (votable) {
    const vote = element("button", "btn btn-sm scc-btn-primary scc-poll-vote", t("pollVote"));
    vote.type = "submit";
    actions.appendChild(vote);
  }
  if (!poll.closed && canClose(node)) {
    const close = element("button", "btn btn-sm btn-outline-secondary scc-poll-close", t("pollClose"));
    close.type = "button";
    close.addEventListener("click", function () {
      const frameId = nextId();
      inFlight[frameId] = id;
      send({ type: "poll.close", room: roomSlug, message_id: Number(id), id: frameId });
    });
    actions.appendChild(close);
  }
  fieldset.appendChild(actions);
  form.appendChild(fieldset);
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    const chosen = $$("input.scc-poll-input:checked", form).map(function (input) {
      return Number(input.value);
    });
    const frameId = nextId();
    inFlight[frameId] = id;
    send({ type: "poll.vote", room: roomSlug, message_id: Number(id), option_ids: chosen, id: frameId });
  });
  root.appendChild(form);
  scheduleClose(id, poll);
}

/** A message's poll, from its payload (messages.js fill): the reader's choice is kept
    when the payload does not say it. */
export function showPoll(node, message) {
  const root = box(node);
  if (!root) {
    return;
  }
  const id = String(Number(message.id));
  if (!message.poll) {
    delete states[id];
    clearTimeout(timers[id]);
    root.hidden = true;
    root.textContent = "";
    return;
  }
  const known = states[id];
  const mine = message.poll.my_votes != null ? message.poll.my_votes : known ? known.my_votes : [];
  states[id] = Object.assign({}, message.poll, { my_votes: mine });
  render(node, states[id]);
}

function nodeOf(id) {
  return document.getElementById("message-" + String(Number(id)));
}

/** poll.updated: the results now, for everyone in the room. */
export function onUpdated(frame) {
  noteEventSeq(frame.room, frame.event_seq);
  if (frame.room !== roomSlug) {
    return;
  }
  const node = nodeOf(frame.message_id);
  if (!node) {
    return;
  }
  const known = Number(node.getAttribute("data-event-seq") || 0);
  if (known >= frame.event_seq) {
    return;
  }
  node.setAttribute("data-event-seq", String(frame.event_seq));
  const id = String(Number(frame.message_id));
  const held = states[id];
  states[id] = Object.assign({}, frame.poll, { my_votes: held ? held.my_votes : [] });
  render(node, states[id]);
}

/** poll.voted: the reader's own choice (the answer to their vote, and their other tabs). */
export function onVoted(frame) {
  const id = String(Number(frame.message_id));
  const answered = frame.id !== undefined && frame.id !== null && inFlight[frame.id] !== undefined;
  if (answered) {
    delete inFlight[frame.id];
    announce(t(frame.option_ids.length ? "pollVoted" : "pollWithdrawn"));
  }
  const node = nodeOf(id);
  if (frame.room !== roomSlug || !node || !states[id]) {
    return;
  }
  states[id] = Object.assign({}, states[id], { my_votes: frame.option_ids });
  render(node, states[id]);
}

/** An ack of a poll's close, or of a poll posted from the dialog. */
export function onAck(frame) {
  if (frame.id === undefined || frame.id === null) {
    return;
  }
  if (inFlight[frame.id] !== undefined) {
    delete inFlight[frame.id];
  }
  if (creating && creating.frameId === frame.id) {
    const dialog = creating.dialog;
    creating = null;
    announce(t("pollCreated"));
    dialog.close();
  }
}

/** An error answering a vote, a close or a poll posted from the dialog: said there. */
export function pollRefused(frame) {
  if (creating && frame.id === creating.frameId) {
    const dialog = creating.dialog;
    creating = null;
    showDialogError(dialog, frame.message);
    $(".scc-poll-submit", dialog).disabled = false;
    return true;
  }
  if (frame.id === undefined || frame.id === null || inFlight[frame.id] === undefined) {
    return false;
  }
  const node = nodeOf(inFlight[frame.id]);
  delete inFlight[frame.id];
  const error = node ? $(".scc-poll-error", node) : null;
  if (error) {
    error.textContent = frame.message;
    error.hidden = false;
  }
  announce(frame.message);
  return true;
}

/* The polls the server rendered (their state in data-poll, with the reader's choice). */
function enhance(root) {
  $$(".scc-poll[data-poll]", root).forEach(function (element) {
    const node = element.closest("li.scc-message[data-id]");
    if (!node) {
      return;
    }
    const poll = JSON.parse(element.getAttribute("data-poll"));
    states[node.getAttribute("data-id")] = poll;
    render(node, poll);
  });
}

// --- "Create poll" -----------------------------------------------------------------------

function showDialogError(dialog, text) {
  const error = $(".scc-dialog-error", dialog);
  error.textContent = text;
  error.hidden = !text;
}

function renumber(dialog) {
  const rows = $$(".scc-poll-dialog-options > li", dialog);
  rows.forEach(function (row, index) {
    const input = $(".scc-poll-option-input", row);
    input.id = "scc-poll-option-" + (index + 1);
    const label = $(".scc-poll-option-label", row);
    label.htmlFor = input.id;
    label.textContent = format(t("pollOptionN"), { n: index + 1 });
    input.placeholder = label.textContent;
    $(".scc-poll-remove-label", row).textContent = format(t("pollRemoveOptionN"), { n: index + 1 });
    $(".scc-poll-remove", row).disabled = rows.length <= 2;
  });
  $(".scc-poll-add", dialog).disabled = rows.length >= Number(config.pollMaxOptions);
}

function addOption(dialog, focus) {
  const template = $("#scc-poll-option-template", dialog);
  const row = template.content.firstElementChild.cloneNode(true);
  $(".scc-poll-dialog-options", dialog).appendChild(row);
  $(".scc-poll-remove", row).addEventListener("click", function () {
    const next = row.nextElementSibling || row.previousElementSibling;
    row.remove();
    renumber(dialog);
    if (next) {
      $(".scc-poll-option-input", next).focus();
    }
  });
  renumber(dialog);
  if (focus) {
    $(".scc-poll-option-input", row).focus();
  }
}

function resetDialog(dialog) {
  $(".scc-poll-dialog-form", dialog).reset();
  $(".scc-poll-dialog-options", dialog).textContent = "";
  addOption(dialog, false);
  addOption(dialog, false);
  showDialogError(dialog, "");
  $(".scc-poll-submit", dialog).disabled = false;
}

function submitPoll(dialog) {
  const question = $("#scc-poll-question", dialog).value.trim();
  const options = $$(".scc-poll-option-input", dialog)
    .map(function (input) {
      return input.value.trim();
    })
    .filter(function (text) {
      return text !== "";
    });
  if (!question) {
    showDialogError(dialog, t("pollNeedsQuestion"));
    $("#scc-poll-question", dialog).focus();
    return;
  }
  if (options.length < 2) {
    showDialogError(dialog, t("pollNeedsOptions"));
    $(".scc-poll-option-input", dialog).focus();
    return;
  }
  const closes = $("#scc-poll-closes", dialog).value;
  const poll = {
    options: options,
    multiple: $("#scc-poll-multiple", dialog).checked,
    anonymous: $("#scc-poll-anonymous", dialog).checked,
  };
  if (closes) {
    poll.closes_at = new Date(closes).toISOString();
  }
  const frameId = nextId();
  creating = { frameId: frameId, dialog: dialog };
  $(".scc-poll-submit", dialog).disabled = true;
  showDialogError(dialog, "");
  send({
    type: "message.send",
    room: roomSlug,
    content: question,
    client_id: "poll-" + Date.now().toString(36) + Math.random().toString(36).slice(2),
    poll: poll,
    id: frameId,
  });
}

function bindCreate(root) {
  const button = $(".scc-poll-create", root);
  const dialog = $("#scc-poll-dialog", root);
  if (!button || !dialog || !config.canCreatePoll || button.hasAttribute("data-bound")) {
    return;
  }
  button.setAttribute("data-bound", "");
  button.hidden = false;
  button.addEventListener("click", function () {
    resetDialog(dialog);
    dialog.showModal();
    $("#scc-poll-question", dialog).focus();
  });
  $(".scc-poll-add", dialog).addEventListener("click", function () {
    addOption(dialog, true);
  });
  $(".scc-poll-cancel", dialog).addEventListener("click", function () {
    creating = null;
    dialog.close();
  });
  $(".scc-poll-dialog-form", dialog).addEventListener("submit", function (event) {
    event.preventDefault();
    submitPoll(dialog);
  });
  dialog.addEventListener("close", function () {
    button.focus();
  });
}

export function init() {
  enhance(document);
  bindCreate(document);
}

// The shell swapped another room's pane in (docs/frontend.md, "The shell").
on("room:open", function (detail) {
  enhance(detail.root);
  bindCreate(detail.root);
});
