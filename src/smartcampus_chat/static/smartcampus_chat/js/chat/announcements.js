/*
 * Announcements (docs/announcements.md). A member sees the announcements they have to
 * acknowledge pinned at the top of the room (#scc-announcements, includes/announcements.html)
 * until they press "I have read this": the form's submit sends announcement.ack over the
 * socket (without JavaScript the form posts); announcement.acked, on every socket of theirs,
 * takes it off the top. A new announcement asking for it joins the top live; a deleted one
 * leaves. The room's moderators see "x of y acknowledged" and who has and has not
 * (#scc-acks, includes/acks_panel.html), kept live by announcement.acks frames. Moderators
 * post one from the composer's options (takeOptions, read by composer.js).
 */

import { on } from "./bus.js";
import { formatFull } from "./dates.js";
import { excerptOf, showFormatted } from "./format.js";
import { announce, authorName, format, t } from "./i18n.js";
import { $, $$, config, isMe, roomSlug } from "./page.js";
import { nextId, send } from "./socket.js";

function section() {
  return $("#scc-announcements");
}

function refreshCount() {
  const root = section();
  if (!root) {
    return;
  }
  const count = $$(".scc-announcement-item", $(".scc-announcements-list", root)).length;
  $(".scc-announcements-count", root).textContent = String(count);
  root.hidden = count === 0;
}

function itemOf(id) {
  const root = section();
  return root ? $('li[data-announcement-id="' + String(Number(id)) + '"]', root) : null;
}

function isOverdue(due) {
  return !!due && new Date(due) <= new Date();
}

/* The top's entry for `message`, from the page's template (the server's markup). */
function newItem(message) {
  const template = $("#scc-announcement-template");
  if (!template || !template.content.firstElementChild) {
    return null;
  }
  const node = template.content.firstElementChild.cloneNode(true);
  const id = String(Number(message.id));
  node.setAttribute("data-announcement-id", id);
  node.classList.toggle("scc-overdue", isOverdue(message.ack_due));
  const author = $(".scc-announcement-author", node);
  author.id = "scc-announcement-" + id + "-by";
  author.textContent = format(t("announcementFrom"), { name: authorName(message) });
  node.setAttribute("aria-labelledby", author.id);
  const due = $(".scc-announcement-due", node);
  due.hidden = !message.ack_due;
  if (message.ack_due) {
    const time = $("time", due);
    time.setAttribute("datetime", message.ack_due);
    time.textContent = formatFull(message.ack_due);
  }
  $(".scc-overdue-badge", node).hidden = !isOverdue(message.ack_due);
  const content = $(".scc-announcement-content", node);
  showFormatted(content, message.content_html);
  $(".scc-ack-form", node).setAttribute(
    "action",
    config.ackFormUrl ? config.ackFormUrl.replace("__id__", id) : "",
  );
  return node;
}

/* A message frame: an announcement to acknowledge joins the top; a deleted one leaves. */
function onMessage(detail) {
  const message = detail.message;
  if (message.room !== roomSlug || message.kind !== "announcement" || !message.requires_ack) {
    return;
  }
  const known = itemOf(message.id);
  if (message.is_deleted) {
    if (known) {
      known.remove();
      refreshCount();
    }
    removeAcks(message.id);
    return;
  }
  if (detail.type === "message.new" && config.mustAcknowledge && !isMe(message.sender) && !known) {
    const node = newItem(message);
    if (node) {
      $(".scc-announcements-list", section()).appendChild(node);
      refreshCount();
      announce(format(t("announcementFrom"), { name: authorName(message) }));
    }
  }
  if (detail.type === "message.new" && config.acksUrl) {
    loadAcks(message);
  }
}

/** announcement.acked: the reader acknowledged it (here or on another device). */
export function onAcked(frame) {
  const node = frame.room === roomSlug ? itemOf(frame.message_id) : null;
  if (!node) {
    return;
  }
  const hadFocus = node.contains(document.activeElement);
  node.remove();
  refreshCount();
  if (frame.id !== undefined && frame.id !== null) {
    delete sent[frame.id];
    announce(t("acknowledged"));
  }
  if (hadFocus) {
    const next = $(".scc-ack-button", section()) || $("#composer textarea");
    if (next) {
      next.focus();
    }
  }
}

function acksItem(id) {
  const panel = $("#scc-acks");
  return panel ? $('li[data-acks-id="' + String(Number(id)) + '"]', panel) : null;
}

function removeAcks(id) {
  const item = acksItem(id);
  if (item) {
    item.remove();
  }
  const panel = $("#scc-acks");
  if (panel) {
    $(".scc-acks-empty", panel).hidden = $$(".scc-acks-item", panel).length > 0;
  }
}

function person(user) {
  const li = document.createElement("li");
  li.setAttribute("data-user-id", String(Number(user.id)));
  li.textContent = user.name;
  return li;
}

/** announcement.acks (moderators): someone acknowledged; the counts and lists follow. */
export function onAcks(frame) {
  const item = frame.room === roomSlug ? acksItem(frame.message_id) : null;
  if (!item) {
    return;
  }
  $(".scc-acks-count", item).textContent = String(frame.acked);
  $(".scc-acks-total", item).textContent = String(frame.total);
  const selector = 'li[data-user-id="' + String(Number(frame.user.id)) + '"]';
  const waiting = $(".scc-acks-pending " + selector, item);
  if (waiting) {
    waiting.remove();
  }
  if (!$(".scc-acks-done " + selector, item)) {
    $(".scc-acks-done", item).appendChild(person(frame.user));
  }
}

/* A new announcement asking for acknowledgement: its entry in the moderators' panel, from
   the REST list (who is asked is the server's to say). */
function loadAcks(message) {
  const panel = $("#scc-acks");
  if (!panel || acksItem(message.id)) {
    return;
  }
  const url = config.acksUrl.replace("__id__", String(Number(message.id)));
  window
    .fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then((response) => (response.ok ? response.json() : null))
    .then(function (data) {
      if (!data || acksItem(message.id)) {
        return;
      }
      const item = document.createElement("li");
      item.className = "scc-acks-item mb-2";
      item.setAttribute("data-acks-id", String(Number(message.id)));
      const link = document.createElement("a");
      link.className = "scc-acks-link small";
      link.href = "?message=" + String(Number(message.id));
      link.textContent = excerptOf(message.content_html);
      const summary = document.createElement("p");
      summary.className = "small mb-1 scc-acks-summary";
      summary.setAttribute("aria-live", "polite");
      const count = document.createElement("span");
      count.className = "scc-acks-count";
      count.textContent = String(data.acked);
      const total = document.createElement("span");
      total.className = "scc-acks-total";
      total.textContent = String(data.total);
      const parts = t("acksOf").split(/%\((acked|total)\)s/);
      parts.forEach(function (part, index) {
        summary.append(index % 2 ? (part === "acked" ? count : total) : part);
      });
      const details = document.createElement("details");
      details.className = "small scc-acks-details";
      const title = document.createElement("summary");
      title.textContent = t("acksWho");
      const done = document.createElement("ul");
      done.className = "scc-acks-done";
      data.acknowledged.forEach((row) => done.appendChild(person(row.user)));
      const waiting = document.createElement("ul");
      waiting.className = "scc-acks-pending";
      data.pending.forEach((row) => waiting.appendChild(person(row.user)));
      const doneTitle = document.createElement("h4");
      doneTitle.className = "h6 small mt-1";
      doneTitle.textContent = t("acksDone");
      const waitingTitle = document.createElement("h4");
      waitingTitle.className = "h6 small";
      waitingTitle.textContent = t("acksNotYet");
      details.append(title, doneTitle, done, waitingTitle, waiting);
      const csv = document.createElement("a");
      csv.className = "small scc-acks-csv";
      csv.href = config.acksCsvUrl.replace("__id__", String(Number(message.id)));
      csv.textContent = t("acksCsv");
      item.append(link, summary, details, csv);
      $(".scc-acks-list", panel).prepend(item);
      $(".scc-acks-empty", panel).hidden = true;
    })
    .catch(function () {});
}

/** The composer's announcement options, then cleared (null: a plain message). */
export function takeOptions() {
  const box = $("#composer [name=announcement]");
  if (!box || !box.checked) {
    return null;
  }
  const ack = $("#composer [name=requires_ack]");
  const due = $("#composer [name=ack_due]");
  const options = { announcement: true, requires_ack: !!(ack && ack.checked) };
  if (options.requires_ack && due && due.value) {
    options.ack_due = new Date(due.value).toISOString(); // the reader's local time
  }
  box.checked = false;
  if (ack) {
    ack.checked = false;
  }
  if (due) {
    due.value = "";
  }
  return options;
}

// The acknowledgements sent and not answered yet: frame id -> announcement id.
const sent = {};

/** An error answering one of our announcement.ack frames: the button works again. */
export function ackRefused(frame) {
  if (frame.id === undefined || frame.id === null || !(frame.id in sent)) {
    return false;
  }
  const node = itemOf(sent[frame.id]);
  delete sent[frame.id];
  const button = node && $(".scc-ack-button", node);
  if (button) {
    button.disabled = false;
  }
  announce(frame.message);
  return true;
}

export function init() {
  document.addEventListener("submit", function (event) {
    const form = event.target.closest && event.target.closest(".scc-ack-form");
    const item = form && form.closest("[data-announcement-id]");
    if (!item) {
      return;
    }
    event.preventDefault();
    const button = $(".scc-ack-button", form);
    if (button) {
      button.disabled = true;
    }
    const id = nextId();
    sent[id] = Number(item.getAttribute("data-announcement-id"));
    send({ type: "announcement.ack", room: roomSlug, message_id: sent[id], id: id });
  });
  on("message", onMessage);
}
