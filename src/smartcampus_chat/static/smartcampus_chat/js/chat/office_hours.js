/*
 * Office hours (docs/office-hours.md): the details panel's "Office hours" section
 * (includes/office_hours_panel.html), over REST, kept live by three frames:
 * - office_hours.state (the whole room): the session, the queue's length, the estimated wait;
 * - office_hours.place (one student): their position, or the teacher who claimed them and
 *   the conversation to go to ("It's your turn", announced assertively);
 * - office_hours.queue (the room's teachers): everyone waiting or being helped, with topics.
 * Changes of place are announced politely in the panel's own live region. Every text from
 * the server (a name, a topic) is set as textContent.
 */

import { on } from "./bus.js";
import { smallButton } from "./edit.js";
import { format, t } from "./i18n.js";
import { $, config, roomSlug } from "./page.js";
import { request } from "./reports.js";

let view = null; // the REST view of the open room's office hours, kept live
let loading = 0; // the latest request: an older answer is dropped
let changedMeanwhile = false; // a frame came since the latest request was sent
const MAX_REREADS = 3;

function panel() {
  return $("#scc-office-hours");
}

function isTeacher() {
  const section = panel();
  return !!section && section.getAttribute("data-teacher") === "1";
}

function say(text, assertive) {
  const region = $(assertive ? "#scc-oh-alert" : "#scc-oh-polite");
  if (region && text) {
    region.textContent = text;
  }
}

function minutes(seconds) {
  return Math.max(1, Math.round(seconds / 60));
}

function waitText(seconds) {
  return seconds === null || seconds === undefined ? t("ohWaitUnknown") : format(t("ohWait"), { minutes: minutes(seconds) });
}

function statusText(session) {
  if (!session || session.state === "closed") {
    return session ? t("ohClosed") : t("ohNone");
  }
  if (session.state === "scheduled") {
    return format(t("ohScheduled"), { time: new Date(session.starts_at).toLocaleString() });
  }
  return format(t("ohOpen"), { waiting: session.waiting }) + " " + waitText(session.estimated_wait);
}

function act(method, url, body) {
  return request(method, url, body).then(load, function (failure) {
    say(format(t("ohFailed"), { reason: failure.message }), true);
  });
}

function finishUrl(entry) {
  return config.officeHoursFinishUrl.replace("__id__", encodeURIComponent(String(entry.id)));
}

function entryItem(entry) {
  const item = document.createElement("li");
  item.className = "scc-oh-entry border-bottom py-1";
  item.setAttribute("data-entry-id", String(entry.id));
  const name = document.createElement("span");
  name.className = "fw-semibold scc-oh-name";
  name.textContent = entry.user.name;
  const topic = document.createElement("p");
  topic.className = "small mb-1 scc-oh-topic";
  topic.textContent = entry.topic || t("ohNoTopic");
  item.append(name);
  if (entry.status === "being_helped" && entry.claimed_by) {
    const by = document.createElement("span");
    by.className = "small text-body-secondary ms-1";
    by.textContent = format(t("ohHelpedBy"), { name: entry.claimed_by.name });
    item.append(by);
  }
  item.append(topic);
  const buttons = document.createElement("div");
  buttons.className = "d-flex flex-wrap gap-1";
  if (entry.status === "waiting") {
    const claim = smallButton(t("ohClaim"), "scc-btn-primary");
    claim.setAttribute("data-action", "oh-claim");
    claim.setAttribute("aria-label", t("ohClaim") + " " + entry.user.name);
    claim.addEventListener("click", function () {
      act("POST", config.officeHoursClaimUrl, { entry: entry.id });
    });
    buttons.append(claim);
  } else {
    const done = smallButton(t("ohDoneButton"), "btn-outline-success");
    done.setAttribute("data-action", "oh-done");
    done.setAttribute("aria-label", t("ohDoneButton") + " " + entry.user.name);
    done.addEventListener("click", function () {
      act("POST", finishUrl(entry), { outcome: "done" });
    });
    buttons.append(done);
  }
  const absent = smallButton(t("ohNoShowButton"), "btn-outline-secondary");
  absent.setAttribute("data-action", "oh-no-show");
  absent.setAttribute("aria-label", t("ohNoShowButton") + " " + entry.user.name);
  absent.addEventListener("click", function () {
    act("POST", finishUrl(entry), { outcome: "no_show" });
  });
  buttons.append(absent);
  item.append(buttons);
  return item;
}

function renderStats(section) {
  const list = $(".scc-oh-stats", section);
  const stats = view.stats;
  const closed = !view.session || view.session.state === "closed";
  list.hidden = !stats || !closed;
  if (list.hidden) {
    return;
  }
  const rows = [
    [t("ohStatServed"), String(stats.served)],
    [t("ohStatNoShows"), String(stats.no_shows)],
    [t("ohStatWait"), stats.average_wait === null ? "–" : format(t("ohMinutes"), { minutes: minutes(stats.average_wait) })],
    [t("ohStatService"), stats.average_service === null ? "–" : format(t("ohMinutes"), { minutes: minutes(stats.average_service) })],
  ];
  list.replaceChildren();
  rows.forEach(function (row) {
    const term = document.createElement("dt");
    term.textContent = row[0];
    const value = document.createElement("dd");
    value.textContent = row[1];
    list.append(term, value);
  });
}

function renderTeacher(section) {
  const live = !!view.session && view.session.state !== "closed";
  $('[data-action="oh-open"]', section).hidden = live;
  $('[data-action="oh-close"]', section).hidden = !live;
  $('[data-action="oh-claim-next"]', section).hidden = !live || !view.session.waiting;
  const list = $(".scc-oh-queue", section);
  const entries = live ? view.queue || [] : [];
  list.replaceChildren.apply(list, entries.map(entryItem));
  renderStats(section);
}

function placeText(mine) {
  if (mine.status === "waiting") {
    return format(t("ohPosition"), { position: mine.position }) + " " + waitText(mine.estimated_wait);
  }
  if (mine.status === "being_helped") {
    return format(t("ohTurn"), { name: mine.claimed_by ? mine.claimed_by.name : "" });
  }
  return { done: t("ohDone"), left: t("ohLeft"), no_show: t("ohNoShow") }[mine.status] || "";
}

function renderStudent(section) {
  const open = !!view.session && view.session.state === "open";
  const mine = view.mine;
  const queued = !!mine && (mine.status === "waiting" || mine.status === "being_helped");
  $(".scc-oh-raise", section).hidden = !open || queued;
  $(".scc-oh-leave", section).hidden = !queued;
  const place = $(".scc-oh-place", section);
  place.hidden = !mine;
  place.textContent = mine ? placeText(mine) : "";
  const go = $(".scc-oh-go", section);
  go.hidden = !(mine && mine.status === "being_helped" && mine.conversation);
  if (!go.hidden) {
    $("a", go).href = config.roomUrl.replace("__slug__", encodeURIComponent(mine.conversation));
  }
}

function render() {
  const section = panel();
  if (!section || !view) {
    return;
  }
  $(".scc-oh-status", section).textContent = statusText(view.session);
  if (isTeacher()) {
    renderTeacher(section);
  } else {
    renderStudent(section);
  }
}

/** Read the open room's office hours again. A frame of the room arriving while the answer
    is awaited may be newer than the answer (read before the change it tells): the answer is
    then dropped and the view read again (at most `MAX_REREADS` times in a row, so that a
    busy queue cannot keep the panel empty). */
export function load() {
  read(0);
}

function read(rereads) {
  if (!panel() || !config.officeHoursUrl) {
    return;
  }
  const ask = ++loading;
  changedMeanwhile = false;
  request("GET", config.officeHoursUrl).then(
    function (answer) {
      if (ask !== loading || answer.room !== roomSlug) {
        return;
      }
      if (changedMeanwhile && rereads < MAX_REREADS) {
        read(rereads + 1);
        return;
      }
      view = answer;
      render();
    },
    function () {}
  );
}

/** A frame of the open room: an answer awaited now may be older than it. */
function noteFrame(frame) {
  if (frame.room === roomSlug) {
    changedMeanwhile = true;
  }
}

/** "office_hours.state": the room's office hours changed (no names). */
export function onState(frame) {
  noteFrame(frame);
  if (!view || frame.room !== roomSlug) {
    return;
  }
  const before = view.session;
  if (!before || !frame.session || before.id !== frame.session.id) {
    view.mine = null; // another session: one's place in the last one is gone
  }
  view.session = frame.session;
  if (isTeacher() && frame.session && frame.session.state === "closed") {
    load(); // the session's figures
  }
  render();
}

/** "office_hours.place": the reader's own place changed. */
export function onPlace(frame) {
  noteFrame(frame);
  if (!view || frame.room !== roomSlug) {
    return;
  }
  const before = view.mine;
  const place = frame.place;
  view.mine = place;
  render();
  if (place.status === "being_helped" && (!before || before.status !== "being_helped")) {
    say(placeText(place), true);
  } else if (!before || before.status !== place.status || before.position !== place.position) {
    say(placeText(place), false);
  }
}

/** "office_hours.queue": the whole queue (teachers). */
export function onQueue(frame) {
  noteFrame(frame);
  if (!view || frame.room !== roomSlug) {
    return;
  }
  view.queue = frame.entries;
  render();
}

function bind() {
  const section = panel();
  if (!section || section.getAttribute("data-bound")) {
    return;
  }
  section.setAttribute("data-bound", "1");
  section.addEventListener("click", function (event) {
    const button = event.target.closest("button[data-action]");
    if (!button) {
      return;
    }
    const action = button.getAttribute("data-action");
    if (action === "oh-open") {
      act("POST", config.officeHoursUrl, {});
    } else if (action === "oh-close") {
      act("DELETE", config.officeHoursUrl);
    } else if (action === "oh-claim-next") {
      act("POST", config.officeHoursClaimUrl, {});
    } else if (action === "oh-leave") {
      act("DELETE", config.officeHoursQueueUrl);
    }
  });
  const form = $(".scc-oh-raise", section);
  if (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      const topic = $("input[name=topic]", form);
      act("POST", config.officeHoursQueueUrl, { topic: topic.value }).then(function () {
        topic.value = "";
      });
    });
  }
}

function start() {
  view = null;
  bind();
  load();
}

export function init() {
  on("room:open", start);
  on("open", load);
  start();
}
