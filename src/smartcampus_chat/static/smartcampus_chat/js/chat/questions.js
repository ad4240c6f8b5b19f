/*
 * Q&A mode (docs/questions.md). In a room in Q&A mode (config.qaMode, and room.updated's
 * qa_mode) a top-level message is a question and a reply its answer. The questions' states
 * come from the REST list (config.questionsUrl: with whether the reader up-voted each) and
 * then from question.updated frames (the same state for the whole room) and question.voted
 * (the reader's own vote). Each question in the timeline gets an up-vote button
 * (aria-pressed, its count), a "Resolved" badge and, for those who may, "Mark resolved";
 * an endorsed answer is labelled "Endorsed answer" in text; moderators get "Endorse" on
 * answers. The "Live questions" panel (#scc-questions, includes/questions_panel.html) lists
 * the unresolved ones, most up-voted first, as links to them. Votes, endorsements and
 * resolution go over the socket.
 */

import { on } from "./bus.js";
import { excerptOf } from "./format.js";
import { format, t } from "./i18n.js";
import { $, $$, config, icon, roomSlug } from "./page.js";
import { nextId, send } from "./socket.js";

/* id -> {state, seq, senderId, own, html, voted}. */
let questions = new Map();
let loading = null;
let pending = false;

function panel() {
  return $("#scc-questions");
}

function messageNode(id) {
  return $("li.scc-message#message-" + String(Number(id)));
}

function remember(map, item) {
  map.set(item.id, {
    state: item.state,
    seq: item.seq,
    senderId: item.sender ? item.sender.id : null,
    // An anonymous question names nobody; the list tells its author it is theirs.
    own: !!item.own,
    html: item.content_html,
    voted: !!item.voted,
  });
}

/* Every question of the room, fresh (page by page: at most a few for a lecture). */
function load() {
  if (!config.qaMode || !config.questionsUrl) {
    return;
  }
  if (loading) {
    pending = true;
    return;
  }
  const fresh = new Map();
  function page(url) {
    return window
      .fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((response) => (response.ok ? response.json() : null))
      .then(function (data) {
        if (!data) {
          return;
        }
        data.results.forEach((item) => remember(fresh, item));
        return data.next ? page(data.next) : undefined;
      });
  }
  loading = page(config.questionsUrl + "?status=all&sort=recent&limit=100")
    .then(function () {
      questions = fresh;
    })
    .finally(function () {
      loading = null;
      render();
      if (pending) {
        pending = false;
        load();
      }
    });
}

function isMine(entry) {
  return entry.own || String(entry.senderId) === String(config.userId);
}

function canResolve(entry) {
  return !!config.canModerate || isMine(entry);
}

function voteButton(id, entry) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "btn btn-sm btn-outline-secondary scc-qa-vote";
  button.setAttribute("data-question", String(id));
  button.setAttribute("aria-pressed", entry.voted ? "true" : "false");
  // The name is the hidden text and the visible count ("Up-vote this question, up-votes: 3").
  button.appendChild(icon("bi-caret-up-fill"));
  const label = document.createElement("span");
  label.className = "visually-hidden";
  label.textContent = t("qaUpvote") + " ";
  button.appendChild(label);
  const count = document.createElement("span");
  count.className = "scc-qa-votes ms-1";
  count.textContent = String(entry.state.votes);
  button.appendChild(count);
  button.disabled = isMine(entry);
  button.addEventListener("click", function () {
    send({
      type: entry.voted ? "question.unvote" : "question.vote",
      room: roomSlug,
      message_id: id,
      id: nextId(),
    });
  });
  return button;
}

function textButton(className, label, frame) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "btn btn-sm btn-link " + className;
  button.textContent = label;
  button.addEventListener("click", function () {
    send(Object.assign({ room: roomSlug, id: nextId() }, frame));
  });
  return button;
}

function badge(className, text) {
  const span = document.createElement("span");
  span.className = "badge " + className;
  span.textContent = text;
  return span;
}

/* The question's bar under its message in the timeline. */
function decorateQuestion(id, entry) {
  const node = messageNode(id);
  if (!node) {
    return;
  }
  node.classList.add("scc-question");
  node.classList.toggle("scc-resolved", entry.state.resolved);
  let bar = $(".scc-qa-bar", node);
  if (!bar) {
    bar = document.createElement("div");
    bar.className = "scc-qa-bar d-flex align-items-center gap-2 small";
    node.appendChild(bar);
  }
  bar.replaceChildren(voteButton(id, entry));
  bar.appendChild(badge("text-bg-light scc-qa-answers", format(t("qaAnswers"), { count: String(entry.state.answers) })));
  if (entry.state.resolved) {
    bar.appendChild(badge("text-bg-success scc-qa-resolved", t("qaResolved")));
  }
  if (canResolve(entry)) {
    const resolved = entry.state.resolved;
    bar.appendChild(
      textButton("scc-qa-resolve", t(resolved ? "qaReopen" : "qaResolve"), {
        type: resolved ? "question.reopen" : "question.resolve",
        message_id: id,
      }),
    );
  }
}

/* An answer: "Endorsed answer" (in text), and for moderators the endorse toggle. */
function decorateAnswer(node, endorsement) {
  const id = Number(node.getAttribute("data-id"));
  node.classList.toggle("scc-endorsed", !!endorsement);
  let bar = $(".scc-qa-answer", node);
  if (!bar) {
    bar = document.createElement("div");
    bar.className = "scc-qa-answer d-flex align-items-center gap-2 small";
    node.appendChild(bar);
  }
  bar.replaceChildren();
  if (endorsement) {
    const label = badge("scc-qa-endorsed", t("qaEndorsed"));
    label.prepend(icon("bi-patch-check-fill me-1"));
    bar.appendChild(label);
    if (endorsement.by) {
      bar.appendChild(badge("text-body-secondary scc-qa-endorser", format(t("qaEndorsedBy"), { name: endorsement.by.name })));
    }
  }
  if (config.canModerate) {
    bar.appendChild(
      textButton("scc-qa-endorse", t(endorsement ? "qaUnendorse" : "qaEndorse"), {
        type: endorsement ? "answer.unendorse" : "answer.endorse",
        message_id: id,
      }),
    );
  }
  bar.hidden = !bar.childElementCount;
}

function decorate() {
  if (!config.qaMode) {
    $$(".scc-qa-bar, .scc-qa-answer").forEach((bar) => bar.remove());
    return;
  }
  const endorsed = new Map();
  questions.forEach(function (entry, id) {
    decorateQuestion(id, entry);
    entry.state.endorsed.forEach((e) => endorsed.set(e.answer, e));
  });
  $$("li.scc-message .scc-reply[data-reply-to]").forEach(function (reply) {
    const node = reply.closest("li.scc-message");
    if (!reply.hidden && node && !node.classList.contains("scc-deleted")) {
      if (questions.has(Number(reply.getAttribute("data-reply-to")))) {
        decorateAnswer(node, endorsed.get(Number(node.getAttribute("data-id"))));
      }
    }
  });
}

/* The panel: unresolved questions, most up-voted first (ties: oldest first). */
function renderPanel() {
  const root = panel();
  if (!root) {
    return;
  }
  root.hidden = !config.qaMode;
  const list = $(".scc-questions-list", root);
  const open = Array.from(questions.entries())
    .filter(([, entry]) => !entry.state.resolved)
    .sort((a, b) => b[1].state.votes - a[1].state.votes || a[1].seq - b[1].seq);
  list.replaceChildren(
    ...open.map(function ([id, entry]) {
      const item = document.createElement("li");
      item.className = "scc-questions-item d-flex gap-2 align-items-start mb-2";
      item.setAttribute("data-question", String(id));
      item.appendChild(voteButton(id, entry));
      const link = document.createElement("a");
      link.className = "scc-questions-link small";
      link.href = "#message-" + String(Number(id));
      link.title = t("qaGoTo");
      link.textContent = excerptOf(entry.html);
      item.appendChild(link);
      return item;
    }),
  );
  $(".scc-questions-empty", root).hidden = open.length > 0;
}

function render() {
  renderPanel();
  decorate();
}

/** "question.updated": a question's state, the same for everyone. */
export function onUpdated(frame) {
  if (frame.room !== roomSlug) {
    return;
  }
  const entry = questions.get(frame.question.id);
  if (!entry) {
    load(); // A new question: its text and seq come with the list.
    return;
  }
  entry.state = frame.question;
  render();
}

/** "question.voted": the reader's own vote (this tab's, or another of theirs). */
export function onVoted(frame) {
  const entry = frame.room === roomSlug && questions.get(frame.message_id);
  if (entry) {
    entry.voted = frame.voted;
    entry.state = Object.assign({}, entry.state, { votes: frame.votes });
    render();
  }
}

export function init() {
  on("room:open", function () {
    questions = new Map();
    load();
  });
  on("open", load);
  on("arrived", decorate);
  on("message", function (detail) {
    const message = detail.message;
    if (message.is_deleted && questions.delete(message.id)) {
      render();
    } else if (detail.type !== "message.new") {
      decorate();
    }
  });
  on("roomUpdated", function (detail) {
    if (detail.room.slug === roomSlug && detail.room.qa_mode !== config.qaMode) {
      config.qaMode = detail.room.qa_mode;
      questions = new Map();
      render();
      load();
    }
  });
  load();
}
