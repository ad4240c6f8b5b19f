/*
 * Reports and the moderation queue (docs/moderation.md), over REST:
 * - "Report" in a message's menu (others' messages) opens a modal <dialog>: the categories
 *   as radio buttons, a note; the focus stays in it, Esc cancels, and the focus goes back
 *   to the menu's button.
 * - "Mute author" (moderators) opens a dialog to mute the message's author for a while.
 * - The details panel's "Moderation" section (includes/moderation_panel.html, moderators
 *   only) lists the open queue with its actions; a reports.changed frame reloads it.
 * - report.resolved tells the reporter (or a held message's author) the outcome in the
 *   live region, never who acted.
 * Every text from the server (a reported message, a note, a name) is set as textContent.
 */

import { on } from "./bus.js";
import { smallButton } from "./edit.js";
import { plainText } from "./format.js";
import { announce, format, t } from "./i18n.js";
import { $, config, roomSlug } from "./page.js";

// The categories a member picks from, and the label of each (filtered: the word filter's).
const CATEGORIES = {
  spam: () => t("category_spam"),
  harassment: () => t("category_harassment"),
  off_topic: () => t("category_off_topic"),
  inappropriate: () => t("category_inappropriate"),
  other: () => t("category_other"),
};
const FILTERED = () => t("category_filtered");
// A mute's durations in seconds ("": until unmuted), as the settings page offers them.
const DURATIONS = [
  ["600", () => t("duration_600")],
  ["3600", () => t("duration_3600")],
  ["86400", () => t("duration_86400")],
  ["604800", () => t("duration_604800")],
  ["", () => t("duration_")],
];
const OUTCOMES = {
  dismissed: () => t("outcome_dismissed"),
  message_deleted: () => t("outcome_message_deleted"),
  author_muted: () => t("outcome_author_muted"),
  author_banned: () => t("outcome_author_banned"),
  approved: () => t("outcome_approved"),
  rejected: () => t("outcome_rejected"),
};

function outcomeName(outcome) {
  return OUTCOMES[outcome] ? OUTCOMES[outcome]() : outcome;
}
const REPORT_ACTIONS = [
  ["dismiss", "dismiss", "btn-outline-secondary"],
  ["delete", "delete", "btn-outline-danger"],
  ["mute", "mute", "btn-outline-danger"],
  ["ban", "ban", "btn-outline-danger"],
];
const HELD_ACTIONS = [
  ["approve", "approve", "scc-btn-primary"],
  ["reject", "reject", "btn-outline-secondary"],
  ["mute", "mute", "btn-outline-danger"],
  ["ban", "ban", "btn-outline-danger"],
];

let loading = 0; // the latest queue request: an older answer is dropped

function csrfToken() {
  const input = $('input[name="csrfmiddlewaretoken"]');
  return input ? input.value : "";
}

/** A JSON request to the API: the answer's body, or an Error carrying the API's message
    (office_hours.js uses it too). */
export function request(method, url, body) {
  return window
    .fetch(url, {
      method: method,
      credentials: "same-origin",
      headers: { Accept: "application/json", "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: body ? JSON.stringify(body) : undefined,
    })
    .then(function (response) {
      if (response.status === 204) {
        return null; // done, nothing to say (a DELETE)
      }
      return response.json().then(
        function (data) {
          if (!response.ok) {
            const error = (data && data.error) || {};
            const details = Object.values(error.fields || {}).flat();
            throw new Error([error.message || String(response.status)].concat(details).join(" "));
          }
          return data;
        },
        function () {
          throw new Error(String(response.status));
        }
      );
    });
}

function idUrl(template, id) {
  return template.replace("__id__", encodeURIComponent(String(id)));
}

function messageOf(element) {
  return element.closest("li.scc-message[data-id]");
}

function senderOf(node) {
  return node.getAttribute("data-sender-id") || "";
}

/** Others' messages still there, from a person (not the site). */
export function canReport(node) {
  const sender = senderOf(node);
  // An anonymous post names nobody; one's own (scc-mine) is not reported.
  const other = sender ? sender !== String(config.userId) : node.hasAttribute("data-anonymous") && !node.classList.contains("scc-mine");
  return !!config.reportUrl && other && !node.classList.contains("scc-deleted");
}

/** Moderators mute the author of another's message. */
export function canMuteAuthor(node) {
  return !!config.muteUrl && !!senderOf(node) && senderOf(node) !== String(config.userId);
}

/* A modal dialog titled `titleText`, closed (and removed) by Esc or Cancel, the focus back
   on `returnTo`; `body` goes between the title and the buttons. */
function dialogWith(titleText, body, confirmLabel, onConfirm, returnTo) {
  const dialog = document.createElement("dialog");
  dialog.className = "scc-dialog scc-report-dialog";
  dialog.setAttribute("aria-labelledby", "scc-report-dialog-title");
  const form = document.createElement("form");
  form.method = "dialog";
  const title = document.createElement("h2");
  title.id = "scc-report-dialog-title";
  title.className = "h6";
  title.textContent = titleText;
  const error = document.createElement("p");
  error.className = "text-danger small scc-dialog-error";
  error.setAttribute("role", "alert");
  error.hidden = true;
  const buttons = document.createElement("div");
  buttons.className = "d-flex justify-content-end gap-2";
  const cancel = smallButton(t("cancel"), "btn-outline-secondary");
  const confirm = smallButton(confirmLabel, "btn-danger");
  confirm.type = "submit";
  confirm.setAttribute("data-action", "confirm-report");
  buttons.append(cancel, confirm);
  form.append(title, body, error, buttons);
  dialog.appendChild(form);
  cancel.addEventListener("click", function () {
    dialog.close();
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    confirm.disabled = true;
    onConfirm().then(
      function () {
        dialog.close();
      },
      function (failure) {
        confirm.disabled = false;
        error.textContent = failure.message;
        error.hidden = false;
      }
    );
  });
  dialog.addEventListener("close", function () {
    dialog.remove();
    if (returnTo && returnTo.isConnected) {
      returnTo.focus();
    }
  });
  ($(".scc-room") || document.body).appendChild(dialog);
  dialog.showModal();
  return dialog;
}

function durationSelect() {
  const label = document.createElement("label");
  label.className = "form-label small d-block";
  label.textContent = t("muteFor") + " ";
  const select = document.createElement("select");
  select.className = "form-select form-select-sm";
  select.name = "duration";
  DURATIONS.forEach(function (entry) {
    const option = document.createElement("option");
    option.value = entry[0];
    option.textContent = entry[1]();
    select.appendChild(option);
  });
  select.value = "3600";
  label.appendChild(select);
  return label;
}

function durationOf(container) {
  const select = $("select[name=duration]", container);
  return select && select.value ? Number(select.value) : null;
}

/** The report dialog of message `node` (from its menu's `button`). */
export function openReport(node, button) {
  const body = document.createElement("div");
  const quote = document.createElement("blockquote");
  quote.className = "scc-dialog-quote";
  const content = $(".scc-content", node);
  quote.textContent = content ? plainText(content) : "";
  const fieldset = document.createElement("fieldset");
  fieldset.className = "mb-2";
  const legend = document.createElement("legend");
  legend.className = "small fw-semibold";
  legend.textContent = t("reportWhy");
  fieldset.appendChild(legend);
  Object.keys(CATEGORIES).forEach(function (category, index) {
    const wrap = document.createElement("div");
    wrap.className = "form-check";
    const input = document.createElement("input");
    input.className = "form-check-input";
    input.type = "radio";
    input.name = "category";
    input.value = category;
    input.id = "scc-report-" + category;
    input.required = true;
    input.checked = index === 0;
    const label = document.createElement("label");
    label.className = "form-check-label";
    label.htmlFor = input.id;
    label.textContent = CATEGORIES[category]();
    wrap.append(input, label);
    fieldset.appendChild(wrap);
  });
  const noteLabel = document.createElement("label");
  noteLabel.className = "form-label small d-block";
  noteLabel.textContent = t("reportNote");
  const note = document.createElement("textarea");
  note.className = "form-control form-control-sm";
  note.name = "note";
  note.rows = 3;
  note.maxLength = 1000;
  noteLabel.appendChild(note);
  body.append(quote, fieldset, noteLabel);
  const dialog = dialogWith(
    t("reportTitle"),
    body,
    t("report"),
    function () {
      const checked = $("input[name=category]:checked", body);
      const url = idUrl(config.reportUrl, node.getAttribute("data-id"));
      return request("POST", url, { category: checked ? checked.value : "", note: note.value }).then(function () {
        announce(t("reportSent"));
      });
    },
    button
  );
  $("input[name=category]", dialog).focus();
}

/** The "Mute author" dialog of message `node` (moderators). */
export function openMute(node, button) {
  const name = $(".scc-author", node);
  const person = name ? name.textContent.trim() : "";
  const body = durationSelect();
  const dialog = dialogWith(
    format(t("muteTitle"), { name: person }),
    body,
    t("mute"),
    function () {
      const url = idUrl(config.muteUrl, senderOf(node));
      return request("POST", url, { duration: durationOf(body), reason: "" }).then(function () {
        announce(format(t("muteDone"), { name: person }));
      });
    },
    button
  );
  $("select", dialog).focus();
}

/* --- The moderators' panel ------------------------------------------------------------ */

function panel() {
  return $("#scc-moderation");
}

function itemOf(report) {
  const item = document.createElement("li");
  item.className = "scc-queue-item border-bottom py-2";
  item.setAttribute("data-report-id", String(report.id));
  const meta = document.createElement("p");
  meta.className = "small text-body-secondary mb-1 scc-queue-meta";
  meta.textContent = report.held
    ? t("queueHeld")
    : format(t("queueReported"), {
        category: (CATEGORIES[report.category] || FILTERED)(),
        name: report.reporter ? report.reporter.name : "",
      });
  const quote = document.createElement("blockquote");
  quote.className = "scc-report-quote mb-1";
  const author = document.createElement("span");
  author.className = "scc-author fw-semibold";
  author.textContent = report.author ? report.author.name : report.author_label;
  const text = document.createElement("p");
  text.className = "scc-report-text mb-0";
  text.textContent = report.content;
  quote.append(author, text);
  item.append(meta, quote);
  if (report.note) {
    const note = document.createElement("p");
    note.className = "small scc-report-note mb-1";
    note.textContent = format(t("queueNote"), { note: report.note });
    item.appendChild(note);
  }
  const reason = document.createElement("input");
  reason.className = "form-control form-control-sm mb-1";
  reason.setAttribute("aria-label", t("queueReason"));
  reason.placeholder = t("queueReason");
  reason.maxLength = 500;
  const duration = durationSelect();
  const buttons = document.createElement("div");
  buttons.className = "d-flex flex-wrap gap-1";
  (report.held ? HELD_ACTIONS : REPORT_ACTIONS).forEach(function (entry) {
    const button = smallButton(t(entry[1]), entry[2]);
    button.setAttribute("data-action", entry[0]);
    button.addEventListener("click", function () {
      resolve(report.id, entry[0], reason.value, durationOf(duration), item);
    });
    buttons.appendChild(button);
  });
  item.append(reason, duration, buttons);
  return item;
}

function resolve(id, action, reason, duration, item) {
  $$buttons(item, true);
  request("POST", idUrl(config.resolveUrl, id), { action: action, reason: reason, duration: duration }).then(
    function (answer) {
      announce(outcomeName(answer.outcome));
      load();
    },
    function (failure) {
      $$buttons(item, false);
      announce(format(t("actionFailed"), { reason: failure.message }));
    }
  );
}

function $$buttons(item, disabled) {
  item.querySelectorAll("button").forEach(function (button) {
    button.disabled = disabled;
  });
}

function show(reports) {
  const section = panel();
  if (!section) {
    return;
  }
  const list = $(".scc-queue-list", section);
  list.replaceChildren.apply(list, reports.map(itemOf));
  $(".scc-queue-empty", section).hidden = reports.length > 0;
  $(".scc-queue-count", section).textContent = String(reports.length);
}

/** Read the open room's queue again (moderators' panel only). */
export function load() {
  if (!panel() || !config.reportsUrl) {
    return;
  }
  const ask = ++loading;
  request("GET", config.reportsUrl).then(
    function (reports) {
      if (ask === loading) {
        show(reports);
      }
    },
    function () {}
  );
}

/** "reports.changed": the open room's queue changed. */
export function onQueueChanged(frame) {
  if (frame.room === roomSlug) {
    load();
  }
}

/** "report.resolved": what came of the user's report or held message. */
export function onResolved(frame) {
  const held = frame.outcome === "approved" || frame.outcome === "rejected";
  const room = frame.room === roomSlug && config.title ? config.title : frame.room;
  announce(format(t(held ? "outcomeHeld" : "outcomeReport"), { room: room, outcome: outcomeName(frame.outcome) }));
}

export function init() {
  on("room:open", load);
  on("open", load);
  load();
}
