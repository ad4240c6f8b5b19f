"""XSS in a real browser: every payload of tests/xss_corpus.py, as messages, room names,
room descriptions, a group name and user names, rendered by the server templates and by
chat.js in headless Chromium. No payload may execute, load anything or become markup, but
for a message's formatting: its Markdown, rendered and sanitised by the server
(docs/formatting.md), may only become the elements and attributes of that allow-list.

Each page is watched from before its first script runs (``Watcher``):

- ``window.__xss(n)``, the only code a payload runs, reports ``n`` to the test from any
  frame; so does any script the Content Security Policy blocks (``securitypolicyviolation``);
- any dialog (``alert``, ``confirm``, ``prompt``), popup, request to another host than the
  live server (payloads load from ``xss-<n>.invalid``) or frame navigated elsewhere;
- after rendering, a DOM audit: user text containers hold text only, a message's content
  only the formatting allow-list (tests/markup_audit.py), no element carries an ``on*``
  attribute or a ``javascript:``/``data:``/``vbscript:`` URL, every script is one of the
  app's, no element the chat never renders (iframe, svg, img, style...) and no duplicated
  id or stray ``name`` (DOM clobbering).

Pages are opened with the Content Security Policy bypassed, so the escaping is tested on its
own (hosts may turn the headers off); one page is also rendered under the policy as served.
Every check also compares the text shown with the payload's (for a message: the text of
its rendering), so rendering nothing, or escaping twice, fails.
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Dialog, Frame, Page, Route, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from smartcampus_chat.domain.names import normalise_name
from smartcampus_chat.markup import plain_text, render
from smartcampus_chat.protocol.render import excerpt
from tests.attachment_files import png
from tests.browser.conftest import (
    MESSAGES,
    Api,
    OpenPage,
    message_action,
    scroll_to_oldest,
    wait_for_message_count,
)
from tests.browser.live import DEMO_PASSWORD, LiveServer
from tests.markup_audit import ATTRIBUTES, HTML_TAGS, TAGS, text_content
from tests.xss_corpus import PAYLOADS, Payload, counts

VIEWER = "xss-viewer"
# The send rate limit grants a burst of 20 per user: a sender sends at most 19 messages and
# keeps a token for an edit. Every payload is stored in the history; the first LIVE_SENDERS
# also send a sample of PER_SENDER payloads each, live.
PER_SENDER = 19
SENDERS = 72
LIVE_SENDERS = 16
SAMPLE_ROOM_PAGES = 2  # room pages rendered per payload class
PRIVATES = 12  # private rooms of the viewer, titled with a sender's name (names: payloads)
PAGE_SIZE = 50

INIT_SCRIPT = """(() => {
  const report = (what) => {
    try { window.__xssReport(String(what), location.href); } catch (e) {}
  };
  window.__xss = (n) => report(n);
  document.addEventListener("securitypolicyviolation", (e) => {
    const el = e.target && e.target.outerHTML ? e.target.outerHTML.slice(0, 160) : "";
    report("csp " + e.violatedDirective + " " + (e.sample || "") + " " + el);
  }, true);
})();"""

# Containers of user text: text only, or only these child elements (icons, a username).
TEXT_ONLY = [
    ["title, .scc-author, .scc-preview, .scc-room-name, .scc-description", ""],
    [".scc-participant-name, .scc-name, #typing-indicator, #live-region", ""],
    # The sidebar's room link holds its icon, name, preview and badges, each a leaf.
    [".scc-room-label, .scc-unread, .scc-archived", ""],
    [
        ".scc-room-link",
        "span.scc-room-icon, span.scc-presence, span.scc-room-label, span.scc-preview, span.badge,"
        " span.scc-muted-mark[role=img]",
    ],
    # Notifications (the bell's panel, the notifications page): who, where, what, as text.
    [".scc-notify-room, .scc-notify-actor, .scc-notify-excerpt, .scc-notify-kind", ""],
    [".scc-notify-meta", "span.scc-notify-kind, span.scc-notify-room, time.scc-notify-time"],
    [".scc-flash .alert, .scc-room-card small, .scc-member-count, small.text-body-secondary", ""],
    ["#people li span.me-auto, #scc-members li > span.text-truncate", "small.text-body-secondary"],
    ["header h1, .scc-room-info dd", "span.bi"],
    # Search results: the room, the author, and a snippet of text with <mark> only.
    [".scc-search-room, .scc-search-author, .scc-search-count, .scc-search-error", ""],
    [".scc-search-snippet", "mark"],
    # Attachments: file names in messages, the composer's chips, the viewer's caption.
    [".scc-file-name, .scc-file-meta, .scc-upload-name, .scc-upload-size", ""],
    [".scc-upload-error-text, .scc-upload-problem, .scc-viewer-caption, .scc-viewer-count", ""],
    # A link preview's card: what a fetched page says about itself (js/chat/previews.js).
    [".scc-link-preview-site, .scc-link-preview-title, .scc-link-preview-description", ""],
    # Announcements: who posted one; the moderators' lists of who has acknowledged.
    [".scc-announcement-author, .scc-acks-link, .scc-acks-done li, .scc-acks-pending li", ""],
    # Q&A mode: the live questions panel's excerpts, who endorsed an answer.
    [".scc-questions-link, .scc-qa-endorser, .scc-qa-answers", ""],
    # Polls: the options' texts, who voted for them, the results and the state, as text.
    [".scc-poll-text, .scc-poll-voters, .scc-poll-result, .scc-poll-status, .scc-poll-total", ""],
    [".scc-poll-legend", "strong.scc-poll-closed-label"],
]
# A message's content: the formatting allow-list (elements, their attributes, classes, links).
FORMATTED = {
    "tags": sorted(TAGS),
    "attributes": {tag: sorted(names) for tag, names in ATTRIBUTES.items()},
    "mathAttributes": sorted(
        {"display", "encoding", "mathvariant", "stretchy", "fence", "width", "separator"}
        | {"lspace", "rspace", "form", "largeop", "accent", "movablelimits", "accentunder"}
        | {"displaystyle", "scriptlevel", "linethickness", "columnalign", "rowspacing"}
        | {"columnspacing", "height", "depth", "notation", "minsize", "maxsize", "symmetric"}
    ),
    "mathTags": sorted(TAGS - HTML_TAGS),
}
URL_ATTRIBUTES = ["href", "src", "action", "formaction", "data", "xlink:href", "srcdoc"]
URL_ATTRIBUTES += ["background", "poster", "srcset", "ping", "codebase"]
# Elements the chat's pages never contain: any of them comes from a payload. The pages' own
# exceptions: attachments' images (thumbnails, the composer's chips, the viewer) and link
# previews' (the server's re-encoding), the no-JS
# "mark as read" form (#scc-mark-read; a duplicated id is caught below), a message's no-JS
# actions (a <noscript> child of the message), the client's module preloads from the site's
# static files, the sidebar's "+" menu (details.scc-new) and a room's notifications menu
# (details.scc-notify-menu).
FOREIGN = (
    "iframe, frame, frameset, object, embed, base, meta[http-equiv], svg,"
    " math:not(.scc-content math), image, video, audio, source, picture, marquee,"
    " img:not(a.scc-thumb > img):not(img.scc-upload-thumb):not(img.scc-viewer-image)"
    ":not(img.scc-link-preview-image),"
    " details:not(.scc-new):not(.scc-format-help):not(.scc-notify-menu):not(.scc-moderate)"
    ":not(.scc-acks-details),"
    " xmp, listing,"
    " noembed,"
    " noscript:not(#scc-mark-read):not(li.scc-message > noscript.scc-nojs-actions),"
    " noframes, portal, keygen, isindex, plaintext,"
    " style, link:not([rel=stylesheet]):not([rel=modulepreload][href^='/static/'])"
    ":not(#scc-favicon),"
    " template:not(#scc-message-template):not(#scc-announcement-template)"
    ":not(#scc-poll-option-template),"
    " select:not(#campus-language):not(#id_slow_mode_seconds):not(.scc-moderate select),"
    " [autofocus],"
    " [contenteditable], [tabindex='1'], [data-xss]"
)
FORM_FIELDS = "csrfmiddlewaretoken content client_id q name description is_archived language next"
FORM_FIELDS += " read_receipts"
FORM_FIELDS += " room"
FORM_FIELDS += " files"
FORM_FIELDS += " level mute return id all"
# Moderation: the room settings (lock, slow mode, word filter), a member's sanctions, reports.
FORM_FIELDS += " is_locked slow_mode_seconds word_filter action duration reason role"
FORM_FIELDS += " category note"
FORM_FIELDS += " announcement requires_ack ack_due"
# Q&A mode: the room setting (docs/questions.md).
FORM_FIELDS += " qa_mode"
# Anonymous posts: the room setting, the composer's box.
FORM_FIELDS += " allow_anonymous anonymous"
# Polls: the "Create poll" dialog and the room setting (a poll's own radio buttons and
# checkboxes are named "poll-<message id>").
FORM_FIELDS += " question multiple anonymous closes_at members_can_create_polls"
DOM_AUDIT = """([textOnly, formatted, urlAttributes, foreign, formFields]) => {
  // Element methods and getters from the prototype: a payload may clobber them on a form.
  const E = Element.prototype;
  const getter = (name) => Object.getOwnPropertyDescriptor(E, name).get;
  const [attributesOf, childrenOf, outerOf, idOf] =
    ["attributes", "children", "outerHTML", "id"].map(getter);
  const count = getter("childElementCount");
  const call = (f, el, ...args) => f.call(el, ...args);
  const show = (el) => call(outerOf, el).slice(0, 200);
  const bad = [];
  for (const [selector, allowed] of textOnly) {
    for (const el of document.querySelectorAll(selector)) {
      for (const child of call(childrenOf, el)) {
        if (!allowed || !call(E.matches, child, allowed) || call(count, child)) {
          bad.push("markup in text: " + show(el));
        }
      }
    }
  }
  const classes =
    /^(scc-hl-[a-z0-9]+|scc-align-(left|center|right)|scc-code|scc-math-error|scc-mention(-all|-me)?)$/;
  const linkScheme = /^([a-z][a-z0-9+.-]*):/i;
  for (const el of document.querySelectorAll(".scc-content *")) {
    const tag = el.localName;
    const math = el.namespaceURI === "http://www.w3.org/1998/Math/MathML";
    if (!formatted.tags.includes(tag) || math !== formatted.mathTags.includes(tag)) {
      bad.push("formatting element: " + show(el));
    }
    const allowed = math ? formatted.mathAttributes : formatted.attributes[tag] || [];
    for (const attr of call(attributesOf, el)) {
      if (!allowed.includes(attr.name)) bad.push("formatting attribute: " + show(el));
      if (attr.name === "class" && !attr.value.split(" ").every((c) => classes.test(c))) {
        bad.push("formatting class: " + show(el));
      }
    }
    if (tag === "a") {
      const href = call(E.getAttribute, el, "href").replace(/[\\t\\n\\r]/g, "").trim();
      const scheme = linkScheme.exec(href);
      if (scheme && !["http", "https", "mailto"].includes(scheme[1].toLowerCase())) {
        bad.push("formatting link: " + show(el));
      }
    }
  }
  const scheme = /^[\\s\\u0000-\\u001f]*(javascript|data|vbscript):/i;
  for (const el of document.querySelectorAll("*")) {
    for (const attr of call(attributesOf, el)) {
      if (/^on/i.test(attr.name)) bad.push("handler: " + show(el));
      if (urlAttributes.includes(attr.name.toLowerCase()) && scheme.test(attr.value)) {
        bad.push("url: " + show(el));
      }
    }
  }
  for (const s of document.querySelectorAll("script")) {
    const src = call(E.getAttribute, s, "src");
    const url = src ? new URL(src, location.href) : null;
    const mine = (url && url.origin === location.origin && url.pathname.startsWith("/static/"))
      || (!src && ["scc-config", "scc-pane-config"].includes(call(idOf, s))
          && call(E.getAttribute, s, "type") === "application/json");
    if (!mine) bad.push("script: " + show(s));
  }
  for (const el of document.querySelectorAll(foreign)) bad.push("element: " + show(el));
  const ids = {};
  for (const el of document.querySelectorAll("[id]")) {
    const id = call(idOf, el);
    ids[id] = (ids[id] || 0) + 1;
  }
  for (const [id, n] of Object.entries(ids)) if (n > 1) bad.push("duplicate id: " + id);
  const fields = formFields.split(" ");
  for (const el of document.querySelectorAll("[name]:not(meta)")) {
    const name = call(E.getAttribute, el, "name");
    if (!call(E.closest, el, "form") || !(fields.includes(name) || /^poll-[0-9]+$/.test(name))) {
      bad.push("name: " + show(el));
    }
  }
  return bad;
}"""


def _number(text: str) -> str:
    """The payload a report, URL or markup names (its ``__xss(n)`` or ``xss-n.invalid``)."""
    found = re.fullmatch(r"\d+", text) or re.search(r"xss[-(](\d+)|data-xss=(\d+)", text)
    if not found:
        return "?"
    return next(group for group in (found.groups() or (found.group(0),)) if group)


@dataclass
class Watcher:
    """Everything a payload could do in the pages it watches, attributed to the payload."""

    base_url: str
    executions: list[str] = field(default_factory=list)
    pages: int = 0
    audits: int = 0

    def attach(self, page: Page) -> Page:
        def on_report(source: Any, what: str, where: str) -> None:
            self.executions.append(f"payload {_number(what)} ran ({what}) at {where}")

        def on_dialog(dialog: Dialog) -> None:
            self.executions.append(f"dialog {dialog.type}: {dialog.message!r}")
            dialog.dismiss()

        def on_foreign(route: Route) -> None:
            url = route.request.url
            self.executions.append(f"payload {_number(url)} made a request: {url}")
            route.abort()

        def on_navigated(frame: Frame) -> None:
            url = frame.url
            if not (url.startswith(self.base_url) or url in ("about:blank", "about:srcdoc")):
                self.executions.append(f"payload {_number(url)} navigated a frame: {url}")

        page.expose_binding("__xssReport", on_report)
        page.add_init_script(INIT_SCRIPT)
        page.on("dialog", on_dialog)
        page.on("framenavigated", on_navigated)
        page.on("popup", lambda popup: self.executions.append(f"popup: {popup.url}"))
        page.route(re.compile(rf"^(?!{re.escape(self.base_url)}/)"), on_foreign)
        return page

    def goto(self, page: Page, path: str) -> None:
        page.goto(path)
        self.pages += 1

    def visit(self, page: Page, path: str) -> None:
        """Go to ``path`` and audit the page as rendered."""
        self.goto(page, path)
        self.audit(page)

    def audit(self, page: Page) -> None:
        """Fail on markup made of user text (an execution waiting for the right payload),
        and on anything that ran so far, before the test reads the page."""
        found: list[str] = page.evaluate(
            DOM_AUDIT, [TEXT_ONLY, FORMATTED, URL_ATTRIBUTES, FOREIGN, FORM_FIELDS]
        )
        self.executions.extend(f"{page.url}: {item}" for item in found)
        self.audits += 1
        self.assert_clean()

    def check(self, page: Page, expected: dict[str, tuple[str, str]]) -> dict[str, Any]:
        """Audit ``page``, then compare the messages shown with ``expected`` (id -> text
        sent, author)."""
        self.audit(page)
        shown = shown_messages(page)
        assert shown == as_shown(expected)
        return shown

    @contextmanager
    def reporting(self, page: Page) -> Iterator[None]:
        """A page broken by a payload times out: report what ran before the timeout."""
        try:
            yield
        except PlaywrightTimeoutError:
            self.audit(page)
            raise

    def wait_for_messages(self, page: Page, count: int) -> None:
        with self.reporting(page):
            wait_for_message_count(page, count, timeout=30_000)

    def assert_clean(self) -> None:
        if not self.executions:
            return
        kinds = Counter(
            PAYLOADS[int(n)].kind if n.isdigit() and int(n) < len(PAYLOADS) else "unknown"
            for n in map(_number, self.executions)
        )
        pytest.fail(
            f"{len(self.executions)} executions, by payload class {dict(kinds)}:\n"
            + "\n".join(self.executions[:40]),
            pytrace=False,
        )


@pytest.fixture
def watcher(live_site: LiveServer) -> Watcher:
    return Watcher(live_site.url)


@pytest.fixture
def watched(open_page: OpenPage, watcher: Watcher) -> Callable[..., Page]:
    """A page of ``user`` watched from before its first script, CSP bypassed by default."""

    def watched(user: str | None, path: str | None = None, **options: Any) -> Page:
        options.setdefault("bypass_csp", True)
        page = watcher.attach(open_page(user, **options))
        if path is not None:
            watcher.goto(page, path)
        return page

    return watched


# --- Data -------------------------------------------------------------------------------


def spread(payloads: list[Payload]) -> list[Payload]:
    """The payloads taken from each class in turn, so that any prefix covers every class."""
    queues: dict[str, list[Payload]] = {}
    for payload in payloads:
        queues.setdefault(payload.kind, []).append(payload)
    out: list[Payload] = []
    while len(out) < len(payloads):
        for queue in queues.values():
            if queue:
                out.append(queue.pop(0))
    return out


def fit(text: str, limit: int, number: int) -> str:
    """``text`` cut to ``limit`` characters, kept distinct by its number."""
    if len(text) <= limit:
        return text
    return text[: limit - 8].strip() + f" #{number}"


@dataclass(frozen=True)
class Sender:
    id: int
    token: str
    username: str
    name: str


@dataclass(frozen=True)
class Room:
    slug: str
    name: str
    description: str
    joined: bool
    preview: str
    preview_sender: int  # index in Data.senders


@dataclass(frozen=True)
class Data:
    live_slug: str
    group_name: str
    viewer_name: str
    senders: list[Sender]
    # id -> (text, sender index) of the messages stored before the test, all the payloads.
    history: dict[str, tuple[str, int]]
    rooms: list[Room]
    edit_slug: str
    edit_messages: list[tuple[int, str]]
    # (slug, sender index) of the viewer's private rooms: titled with the sender's name.
    privates: list[tuple[str, int]]


SETUP = """
import json
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone
from rest_framework.authtoken.models import Token
from smartcampus_chat import services
from smartcampus_chat.markup import render
from smartcampus_chat.models import ChatMessage, ChatParticipant, ChatRoom, Role

spec = json.load(open(%(path)r))
User = get_user_model()
now = timezone.now()
group = Group.objects.create(name=spec["group"])
first, last = spec["viewer"]
viewer = User.objects.create_user(
    %(viewer)r, password=%(password)r, first_name=first, last_name=last)
senders = []
for username, first, last in spec["senders"]:
    user = User(username=username, first_name=first, last_name=last)
    user.set_unusable_password()
    senders.append(user)
senders = User.objects.bulk_create(senders)
group.user_set.add(viewer, *senders)
tokens = Token.objects.bulk_create([Token(user=u, key=Token.generate_key()) for u in senders])

# The conversation: every payload in its history; the live senders join during the test.
live = services.do_create_room(
    viewer, name=spec["live"][0], description=spec["live"][1], room_type="group", group=group)
ChatParticipant.objects.bulk_create([
    ChatParticipant(room=live, user=u) for u in senders[spec["live_senders"]:]])
history = ChatMessage.objects.bulk_create([
    ChatMessage(room=live, sender=senders[k], content=text, content_html=render(text),
                seq=i + 1, event_seq=i + 1)
    for i, (text, k) in enumerate(spec["history"])])
ChatRoom.objects.filter(pk=live.pk).update(
    last_seq=len(history), last_event_seq=len(history), last_message_at=now)

# A room per payload, half of them joined by the viewer, each with a last message.
rooms = ChatRoom.objects.bulk_create([
    ChatRoom(name=r["name"], slug=r["slug"], description=r["description"], room_type="group",
             group=group, created_by=viewer if r["joined"] else senders[0],
             last_seq=1, last_event_seq=1, last_message_at=now)
    for r in spec["rooms"]])
ChatParticipant.objects.bulk_create([
    ChatParticipant(room=room, user=viewer if r["joined"] else senders[0], role=Role.OWNER,
                    last_read_seq=1)
    for room, r in zip(rooms, spec["rooms"])])
ChatMessage.objects.bulk_create([
    ChatMessage(room=room, sender=senders[r["preview_sender"]], content=r["preview"],
                content_html=render(r["preview"]), seq=1, event_seq=1)
    for room, r in zip(rooms, spec["rooms"])])

# The viewer's own messages, for the no-JavaScript edit page.
edit = services.do_create_room(viewer, name="xss edits", room_type="group", group=group)
edits = [[services.do_send_message(viewer, edit, text).message.pk, text] for text in spec["edits"]]
# Private rooms with the first senders: each titled, for the viewer, with the sender's name.
privates = [[services.do_open_private(viewer, senders[k])[0].slug, k]
            for k in range(spec["privates"])]
print(json.dumps({
    "live": live.slug, "history": [m.pk for m in history], "edit": edit.slug, "edits": edits,
    "senders": [[u.pk, t.key] for u, t in zip(senders, tokens)], "privates": privates,
}))
"""


@pytest.fixture(scope="module")
def data(live_site: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> Data:
    names = spread([p for p in PAYLOADS if len(p.text) <= 150])
    # The template class first: names with $&, $' and %(name)s test chat.js' substitutions.
    names.sort(key=lambda p: p.kind != "template")
    senders = []
    for k in range(SENDERS):
        first, last, handle = names[3 * k], names[3 * k + 1], names[3 * k + 2]
        username = fit(f"xss-sender-{k:03d} {handle.text}", 150, handle.number)
        senders.append((username, first.text, last.text))
    history = [(p.text, p.number % SENDERS) for p in PAYLOADS]
    rooms = [
        Room(
            slug=f"xss-room-{p.number}",
            name=fit(p.text, 120, p.number),
            description=PAYLOADS[-1 - p.number].text,
            joined=p.number % 2 == 0,
            preview=PAYLOADS[(p.number + 7) % len(PAYLOADS)].text,
            preview_sender=p.number % SENDERS,
        )
        for p in PAYLOADS
    ]
    edits = [p.text for p in spread(PAYLOADS)[: len(counts())]]
    group = next(p for p in PAYLOADS if p.kind == "tag" and "<img" in p.text)
    viewer = (names[-1].text, names[-2].text)
    spec = {
        "group": group.text,
        "viewer": viewer,
        "senders": senders,
        "live_senders": LIVE_SENDERS,
        "live": (fit(PAYLOADS[1].text, 120, 1), PAYLOADS[2].text),
        "history": history,
        "rooms": [asdict(room) for room in rooms],
        "edits": edits,
        "privates": PRIVATES,
    }
    path = Path(tmp_path_factory.mktemp("xss")) / "spec.json"
    path.write_text(json.dumps(spec))
    out = live_site.manage(
        "shell", "-c", SETUP % {"path": str(path), "viewer": VIEWER, "password": DEMO_PASSWORD}
    )
    made = json.loads(out.strip().splitlines()[-1])
    return Data(
        live_slug=made["live"],
        group_name=group.text,
        viewer_name=" ".join(viewer).strip(),
        senders=[
            Sender(pk, token, username, f"{first} {last}".strip())
            for (pk, token), (username, first, last) in zip(made["senders"], senders, strict=True)
        ],
        history=dict(zip(map(str, made["history"]), history, strict=True)),
        rooms=rooms,
        edit_slug=made["edit"],
        edit_messages=[(pk, text) for pk, text in made["edits"]],
        privates=[(slug, k) for slug, k in made["privates"]],
    )


# --- Pages ------------------------------------------------------------------------------


def as_shown(messages: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
    """id -> (text, author) as a page shows messages sent as id -> (text sent, author): the
    ``textContent`` of the server's rendering of the text."""
    return {mid: (text_content(render(text)), name) for mid, (text, name) in messages.items()}


def plain(text: str) -> str:
    """A message's text as previews and announcements show it (markup/text.py)."""
    return plain_text(render(text))


def shown_messages(page: Page) -> dict[str, tuple[str, str]]:
    """id -> (text, author) of every message the page shows."""
    rows: list[list[str]] = page.eval_on_selector_all(
        MESSAGES,
        """nodes => nodes.map(n => [n.dataset.id, n.querySelector('.scc-content').textContent,
                                    n.querySelector('.scc-author').textContent])""",
    )
    return {row[0]: (row[1], row[2]) for row in rows}


# Every text an element shows, in order, from now on.
RECORD = """(selector) => {
  const node = document.querySelector(selector);
  const seen = [];
  new MutationObserver(() => seen.push(node.textContent)).observe(
    node, {childList: true, subtree: true, characterData: true});
  return seen;
}"""

# The senders' side, in an anonymous page: join with the REST API (token), take a WebSocket
# ticket, connect, send frames and wait for their answers.
SENDER_JS = """() => {
  window.__api = async (token, path, method = "POST") => {
    const answer = await fetch("/chat/api/" + path, {method,
      headers: {Authorization: "Token " + token, Accept: "application/json"}});
    if (!answer.ok) throw new Error(path + ": " + answer.status + " " + await answer.text());
    return answer.json();
  };
  window.__open = async (token, slug) => {
    const {ticket} = await window.__api(token, "ws-ticket/");
    const ws = new WebSocket(`ws://${location.host}/ws/chat/${slug}/?v=1&ticket=${ticket}`);
    const state = {ws, waiting: {}, frame: 0};
    ws.addEventListener("message", (event) => {
      const frame = JSON.parse(event.data);
      if ((frame.type === "ack" || frame.type === "error") && frame.id in state.waiting) {
        state.waiting[frame.id](frame);
        delete state.waiting[frame.id];
      }
    });
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onclose = () => reject(new Error("closed"));
    });
    ws.onclose = null;
    state.call = (frame) => new Promise((resolve) => {
      state.frame += 1;
      state.waiting[state.frame] = resolve;
      ws.send(JSON.stringify({...frame, id: state.frame}));
    });
    return state;
  };
  window.__typists = {};
  window.__type = async (token, slug, state) => {
    if (!window.__typists[token]) window.__typists[token] = await window.__open(token, slug);
    window.__typists[token].ws.send(JSON.stringify({type: "typing", room: slug, state}));
  };
}"""

JOIN_ALL = """async ([tokens, path]) => {
  await Promise.all(tokens.map((token) => window.__api(token, path)));
}"""

SEND_ALL = """async ({slug, jobs}) => {
  // jobs: [[token, [[client_id, content], ...]], ...]; answers by client_id.
  const answers = {};
  await Promise.all(jobs.map(async ([token, messages]) => {
    const sender = await window.__open(token, slug);
    const frames = await Promise.all(messages.map(([clientId, content]) =>
      sender.call({type: "message.send", room: slug, content, client_id: clientId})));
    frames.forEach((frame, i) => { answers[messages[i][0]] = frame; });
    sender.ws.close();
  }));
  return answers;
}"""

EDIT_ALL = """async ({slug, jobs}) => Promise.all(jobs.map(async ([token, id, content]) => {
  const sender = await window.__open(token, slug);
  const frame = await sender.call({type: "message.edit", room: slug, message_id: id, content});
  sender.ws.close();
  return frame;
}))"""


def report(name: str, figures: dict[str, Any]) -> None:
    print(f"\n[xss] {name}: " + ", ".join(f"{k}={v}" for k, v in figures.items()))


# --- Tests ------------------------------------------------------------------------------


# A hang guard, not a speed limit: these two tests each load about twenty pages of the
# corpus and audit every one, about a minute on a quiet machine (more with the shell's
# sidebar on every room page: the viewer's hundreds of payload rooms, which each audit
# walks). At a load average of 20 one took over the suite's 120 s and failed; the guard is
# sized for a busy machine.
@pytest.mark.timeout(300)
def test_messages_live_in_history_and_server_pages(
    watched: Callable[..., Page], watcher: Watcher, data: Data
) -> None:
    started = time.monotonic()
    slug = data.live_slug
    senders = data.senders
    room_page = watched(VIEWER, f"/chat/room/{slug}/")
    rooms_page = watched(VIEWER, "/chat/")
    announced = room_page.evaluate_handle(RECORD, "#live-region")
    typed = room_page.evaluate_handle(RECORD, "#typing-indicator")
    previews = rooms_page.evaluate_handle(RECORD, f'#my-rooms li[data-room="{slug}"] .scc-preview')
    driver = watched(None, "/accounts/login/")
    driver.evaluate(SENDER_JS)

    # The live senders join over the REST API: chat.js adds them to the participants.
    live_senders = senders[:LIVE_SENDERS]
    driver.evaluate(JOIN_ALL, [[s.token for s in live_senders], f"rooms/{slug}/join/"])
    added = room_page.locator("#participants li .scc-name")
    expect(added).to_have_count(LIVE_SENDERS)
    assert set(added.all_text_contents()) == {s.name for s in live_senders}

    # Typing, one, two and three at once: the indicator names them as they are. Names with
    # "$&", "$'" or "%(other)s" first: chat.js fills its "%(name)s" strings with them.
    indicator = room_page.locator("#typing-indicator")
    tricky = sorted(live_senders, key=lambda s: not re.search(r"\$|%\(", s.name))[:6]
    a, b, c = sorted(tricky[:3], key=lambda s: s.id)  # chat.js lists typists by id
    steps = [
        (a, "started", f"{a.name} is typing…"),
        (b, "started", f"{a.name} and {b.name} are typing…"),
        (c, "started", f"{a.name} and 2 others are typing…"),
        (a, "stopped", f"{b.name} and {c.name} are typing…"),
        (b, "stopped", f"{c.name} is typing…"),
        (c, "stopped", ""),
    ]
    for sender in tricky[3:]:
        steps += [(sender, "started", f"{sender.name} is typing…"), (sender, "stopped", "")]
    for sender, state, text in steps:
        driver.evaluate(
            "([t, s, state]) => window.__type(t, s, state)", [sender.token, slug, state]
        )
        expect(indicator).to_have_text(text)
        assert indicator.text_content() == text
    driver.evaluate("() => Object.values(window.__typists).forEach(s => s.ws.close())")

    # A sample of every class, live: message.new frames rendered by chat.js.
    sample = spread(PAYLOADS)[: LIVE_SENDERS * PER_SENDER]
    jobs = [
        [s.token, [[f"xss-{p.number}", p.text] for p in sample[k::LIVE_SENDERS]]]
        for k, s in enumerate(live_senders)
    ]
    answers: dict[str, Any] = driver.evaluate(SEND_ALL, {"slug": slug, "jobs": jobs})
    refused = {c: a for c, a in answers.items() if a["type"] != "ack"}
    assert not refused, f"{len(refused)} sends refused, e.g. {list(refused.items())[:3]}"
    live: dict[str, tuple[str, str]] = {}
    for k, (_, messages) in enumerate(jobs):
        for client_id, text in messages:
            live[str(answers[client_id]["message"]["id"])] = (text, live_senders[k].name)
    server_rendered = dict(list(data.history.items())[-PAGE_SIZE:])
    expected = {mid: (text, senders[k].name) for mid, (text, k) in server_rendered.items()}
    expected.update(live)
    watcher.wait_for_messages(room_page, len(expected))
    watcher.check(room_page, expected)

    # Live edits (message.edited) to other payloads, one per live sender.
    edit_jobs: list[tuple[str, int, str]] = []
    for k, sender in enumerate(live_senders):
        mine = next(mid for mid, (_, name) in live.items() if name == sender.name)
        text = PAYLOADS[-1 - k].text
        edit_jobs.append((sender.token, int(mine), text))
        expected[mine] = (text, sender.name)
    edited = driver.evaluate(EDIT_ALL, {"slug": slug, "jobs": edit_jobs})
    assert [frame["type"] for frame in edited] == ["ack"] * len(edit_jobs), edited
    room_page.wait_for_function(
        "n => document.querySelectorAll('#message-list .scc-edited:not([hidden])').length === n",
        arg=len(edit_jobs),
    )
    watcher.check(room_page, expected)

    # The live region, typing indicator and room list preview showed the text as it is.
    assert set(announced.json_value()) == {
        f"New message from {name}: {plain(text)}" for text, name in live.values()
    }
    assert set(typed.json_value()) == {text for _, _, text in steps}

    # The room list's preview is "<display name>: <text without formatting>", cut at 80 as
    # the server does; edits show there only for the room's newest message.
    def preview(text: str, name: str) -> str:
        text = plain(text)
        return f"{name}: " + (text if len(text) <= 80 else text[:79] + "…")

    sent = {preview(text, name) for text, name in live.values()}
    edits = {preview(text, live[str(mid)][1]) for _, mid, text in edit_jobs}
    shown_previews = set(previews.json_value())
    assert sent <= shown_previews <= sent | edits
    watcher.audit(rooms_page)
    live_seconds = time.monotonic() - started

    # Reload: the server renders the latest page, chat.js fetches the older ones on scroll.
    for mid, (text, k) in data.history.items():
        expected.setdefault(mid, (text, senders[k].name))
    watcher.goto(room_page, f"/chat/room/{slug}/")
    with watcher.reporting(room_page):
        scrolls = scroll_to_oldest(room_page)
    watcher.wait_for_messages(room_page, len(expected))
    watcher.check(room_page, expected)
    participants = room_page.locator("#participants .scc-participant-name")
    assert set(participants.all_text_contents()) == {s.name for s in senders} | {data.viewer_name}

    # Without JavaScript's help: every message rendered by the server template, page by page.
    seen: dict[str, tuple[str, str]] = {}
    server_pages = 0
    while len(seen) < len(expected):
        watcher.goto(room_page, f"/chat/room/{slug}/?after={server_pages * PAGE_SIZE}")
        page_of = {m: expected[m] for m in shown_messages(room_page) if m in expected}
        assert page_of, f"page {server_pages} is empty"
        seen.update(watcher.check(room_page, page_of))
        server_pages += 1
    assert seen == as_shown(expected)

    # The edit page of one's own messages: the textarea holds the text as it is.
    for pk, text in data.edit_messages:
        watcher.visit(room_page, f"/chat/room/{data.edit_slug}/message/{pk}/edit/")
        expect(room_page.locator("textarea[name=content]")).to_have_value(text)

    # Once under the Content Security Policy as served: nothing even tries to run.
    strict = watched(VIEWER, f"/chat/room/{slug}/?after=0", bypass_csp=False)
    watcher.audit(strict)
    assert len(shown_messages(strict)) == PAGE_SIZE

    watcher.assert_clean()
    report(
        "messages",
        {
            "stored": len(expected),
            "live_sends": len(live),
            "live_edits": len(edit_jobs),
            "history_scrolls": scrolls,
            "server_pages": server_pages,
            "edit_pages": len(data.edit_messages),
            "pages": watcher.pages,
            "audits": watcher.audits,
            "executions": len(watcher.executions),
            "live_s": round(live_seconds, 1),
            "total_s": round(time.monotonic() - started, 1),
        },
    )


@pytest.mark.timeout(300)  # the hang guard sized for a busy machine (see above)
def test_room_group_and_user_names(
    watched: Callable[..., Page], watcher: Watcher, data: Data
) -> None:
    started = time.monotonic()
    rooms_page = watched(VIEWER, "/chat/")

    # The room list: every name as link text and as data-name, and the last messages.
    watcher.audit(rooms_page)
    cards = rooms_page.eval_on_selector_all(
        "li[data-room^=xss-room-]",
        """nodes => nodes.map(n => [n.dataset.room, [n.dataset.name,
            n.closest('#my-rooms, #joinable-rooms').id,
            (n.querySelector('.scc-room-label') || n.querySelector('.scc-room-link')).textContent,
            (n.querySelector('.scc-preview') || {}).textContent || null]])""",
    )
    shown = dict(cards)
    assert len(cards) == len(shown) == len(data.rooms)
    for room in data.rooms:
        name, where, link, preview = shown[room.slug]
        assert (name, link) == (room.name, room.name)
        if room.joined:
            sender = data.senders[room.preview_sender]
            text = plain(room.preview)
            content = text if len(text) <= 80 else text[:79] + "…"
            assert (where, preview) == ("my-rooms", f"{sender.name}: {content}")
        else:
            assert where == "joinable-rooms"

    # A sample of room pages: title, header, description, group name; then the settings
    # page of a joined room, or joining the others through the page (flash message).
    pages = 0
    page = watched(VIEWER)
    for payload in spread(PAYLOADS)[: len(counts()) * SAMPLE_ROOM_PAGES]:
        room = data.rooms[payload.number]
        watcher.visit(page, f"/chat/room/{room.slug}/")
        # The shell's title.js may put the unread count first: "(3) <name> · SmartCampus".
        title = re.sub(r"^\(\d+\) ", "", page.locator("title").text_content() or "")
        assert title == f"{room.name} · SmartCampus"
        assert page.locator("h1.scc-room-name").text_content() == room.name
        assert page.locator(".scc-description").text_content() == room.description
        expect(page.locator(".scc-room-info dd").first).to_contain_text(data.group_name)
        if room.joined:
            watcher.visit(page, f"/chat/room/{room.slug}/settings/")
            assert page.locator("header h1").text_content() == f"Settings of {room.name}"
            expect(page.locator("input[name=name]")).to_have_value(room.name)
            expect(page.locator("textarea[name=description]")).to_have_value(room.description)
        else:
            page.locator("form.scc-join button[type=submit]").click()
            flash = page.locator(".scc-flash .alert")
            expect(flash).to_have_count(1)
            watcher.audit(page)
            assert flash.text_content() == f"You joined {room.name}."
            watcher.pages += 1
            # The room list, open meanwhile, learnt it live (room.added).
            link = rooms_page.locator(f'#my-rooms li[data-room="{room.slug}"] .scc-room-label')
            expect(link).to_have_count(1)
            assert link.text_content() == room.name
        pages += 1

    # Renamed while the room list is open (room.updated): the new name shows as text. The
    # payload alone would be another room's name (refused as a look-alike), and names are
    # stored in their normal form (format characters out, white space collapsed).
    api = Api(rooms_page)
    renamed = [r for r in data.rooms if r.joined][:5]
    for offset, room in enumerate(renamed):
        number = len(PAYLOADS) - 1 - offset
        new_name = normalise_name(fit(f"renamed: {PAYLOADS[number].text}", 120, number))
        api.call("PATCH", f"rooms/{room.slug}/", {"name": new_name})
        link = rooms_page.locator(f'#my-rooms li[data-room="{room.slug}"] .scc-room-label')
        expect(link).to_have_text(new_name)
        assert link.text_content() == new_name
    watcher.audit(rooms_page)

    # Private rooms are titled with the other person's display name (user text): in the
    # room list, the room page's title and header, and live (room.added) once opened.
    for slug, k in data.privates:
        card = rooms_page.locator(f'#my-rooms li[data-room="{slug}"]')
        assert card.get_attribute("data-name") == data.senders[k].name
        assert card.locator(".scc-room-label").text_content() == data.senders[k].name
    for slug, k in data.privates[:4]:
        watcher.visit(page, f"/chat/room/{slug}/")
        title = re.sub(r"^\(\d+\) ", "", page.locator("title").text_content() or "")
        assert title == f"{data.senders[k].name} · SmartCampus"
        assert page.locator("h1.scc-room-name").text_content() == data.senders[k].name
    for sender in data.senders[PRIVATES : PRIVATES + 4]:
        opened = api.call("POST", "private/", {"user": sender.id})
        assert opened["title"] == sender.name
        link = rooms_page.locator(f'#my-rooms li[data-room="{opened["slug"]}"] .scc-room-label')
        expect(link).to_have_count(1)
        assert link.text_content() == sender.name
    watcher.audit(rooms_page)

    # People: the search results and the member list of the conversation's settings.
    by_id = {str(s.id): s for s in data.senders}
    watcher.visit(page, "/chat/people/?q=xss-sender")
    people = page.eval_on_selector_all(
        "#people li[data-user-id]",
        "nodes => nodes.map(n => [n.dataset.userId, n.querySelector('.me-auto').textContent])",
    )
    assert people, "nobody found"
    for user_id, text in people:
        # The browser suite shows handles (EXPOSE_USERNAME): they go through the corpus too.
        assert text == f"{by_id[user_id].name} @{by_id[user_id].username}"
    # More senders than a page: the next page's link keeps the query.
    page.locator("a.scc-people-next").click()
    page.wait_for_url("**/people/?q=xss-sender&page=2")
    watcher.pages += 1
    watcher.audit(page)
    expect(page.locator("#people li[data-user-id]").first).to_be_visible()
    watcher.visit(page, f"/chat/room/{data.live_slug}/settings/")
    members = page.eval_on_selector_all(
        "#scc-members li[data-user-id]",
        "nodes => nodes.map(n => [n.dataset.userId, n.querySelector('span').textContent])",
    )
    for user_id, text in members:
        if user_id in by_id:
            assert text == f"{by_id[user_id].name} @{by_id[user_id].username}"
    assert len(members) >= SENDERS - LIVE_SENDERS

    # The REST API opened in the browser: JSON text, never HTML (no browsable API), nosniff.
    room = data.rooms[1]  # not renamed above
    for path in (f"rooms/{room.slug}/", f"rooms/{data.live_slug}/messages/?limit=200"):
        answer = page.goto(f"/chat/api/{path}")
        watcher.pages += 1
        assert answer is not None
        assert answer.headers["content-type"].startswith("application/json")
        assert answer.headers["x-content-type-options"] == "nosniff"
        watcher.audit(page)
        body = json.loads(page.locator("body").inner_text())
        assert body.get("name", room.name) == room.name

    watcher.assert_clean()
    report(
        "names",
        {
            "rooms": len(data.rooms),
            "room_pages": pages,
            "renamed_live": len(renamed),
            "users": len(data.senders) + 1,
            "people_shown": len(people),
            "pages": watcher.pages,
            "audits": watcher.audits,
            "executions": len(watcher.executions),
            "total_s": round(time.monotonic() - started, 1),
        },
    )


ESCAPED_FORMATTING = [
    ('<img src="/static/x.png">', "formatting element"),
    ('<a href="jav&#x09;ascript:void(0)">x</a>', "formatting link"),
    ('<span class="btn btn-danger">x</span>', "formatting class"),
    ('<p title="x">x</p>', "formatting attribute"),
    ('<math><mi href="/">x</mi></math>', "formatting attribute"),
    ("<div>x</div>", "formatting element"),
]


def test_the_audit_finds_formatting_beyond_the_allow_list(
    watched: Callable[..., Page], data: Data
) -> None:
    """The audit of a message's formatting can fail: markup the server would never send,
    put into a message by hand, is found."""
    page = watched(VIEWER, f"/chat/room/{data.edit_slug}/")
    for markup, finding in ESCAPED_FORMATTING:
        page.evaluate(
            """(markup) => {
                const body = new DOMParser().parseFromString(markup, "text/html").body;
                document.querySelector(".scc-content").replaceChildren(...body.childNodes);
            }""",
            markup,
        )
        found: list[str] = page.evaluate(
            DOM_AUDIT, [TEXT_ONLY, FORMATTED, URL_ATTRIBUTES, FOREIGN, FORM_FIELDS]
        )
        assert finding in {item.split(":")[0] for item in found}, (markup, found)


SEARCH_PAGES = 8  # pages of 20 results read through each door


def check_snippets(page: Page, data: Data) -> int:
    """Every result shown: a snippet whose text is a window of its message's text as shown
    (escaped once, nothing lost to markup), most with their searched word marked."""
    hits = page.eval_on_selector_all(
        ".scc-search-hit",
        "els => els.map(el => [el.dataset.messageId,"
        " el.querySelector('.scc-search-snippet').textContent,"
        " el.querySelectorAll('.scc-search-snippet mark').length])",
    )
    for message_id, snippet, _marks in hits:
        if message_id not in data.history:
            continue  # sent live by another test of this module: audited, not compared
        text, _sender = data.history[message_id]
        assert snippet.strip("…") in plain_text(render(text)), (message_id, snippet)
    # A word found only in a link's address is not shown: most snippets mark, not all.
    assert sum(marks > 0 for _id, _snippet, marks in hits) > len(hits) // 2
    return len(hits)


@pytest.mark.timeout(300)
def test_search_snippets_of_every_payload_class(
    watched: Callable[..., Page], watcher: Watcher, data: Data
) -> None:
    """Every payload says ``__xss(n)``: searching "xss" finds them, through the results
    page (no JavaScript) and the sidebar's box (search.js, over the socket)."""
    page = watched(VIEWER, f"/chat/search/?q=xss&room={data.live_slug}")
    shown = 0
    for _ in range(SEARCH_PAGES):
        watcher.audit(page)
        shown += check_snippets(page, data)
        more = page.locator("a.scc-search-next")
        if not more.count():
            break
        watcher.goto(page, "/chat/search/" + (more.get_attribute("href") or ""))
    assert shown == 20 * SEARCH_PAGES

    shell = watched(VIEWER, f"/chat/room/{data.live_slug}/")
    box = shell.locator("#scc-search-room")
    box.fill("xss")
    box.press("Enter")
    panel = shell.locator(".scc-room-search .scc-search-panel")
    with watcher.reporting(shell):
        for n in range(1, SEARCH_PAGES + 1):
            expect(panel.locator(".scc-search-hit")).to_have_count(20 * n, timeout=20_000)
            if n < SEARCH_PAGES:
                panel.locator(".scc-search-next").click()
    watcher.audit(shell)
    assert check_snippets(shell, data) == 20 * SEARCH_PAGES
    report("search snippets", {"results": shown * 2, "executions": len(watcher.executions)})


MENTIONS = """
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from smartcampus_chat import services
viewer = get_user_model().objects.get(username=%(viewer)r)
room = services.do_create_room(
    viewer, name="xss mentions", room_type="group", group=Group.objects.get(name=%(group)r))
ids = %(ids)r
for start in range(0, len(ids), 20):
    services.do_send_message(viewer, room, " ".join(f"@**x|{pk}**" for pk in ids[start:start + 20]))
print(room.slug)
"""


def test_mentions_of_every_sender(
    live_site: LiveServer, watched: Callable[..., Page], watcher: Watcher, data: Data
) -> None:
    """The senders' names (payloads) mentioned: server-rendered, then sent live from the
    composer; each mention shows "@" and the name as text, and nothing runs."""
    ids = [sender.id for sender in data.senders]
    made = live_site.manage(
        "shell", "-c", MENTIONS % {"viewer": VIEWER, "group": data.group_name, "ids": ids}
    )
    slug = made.strip().splitlines()[-1]
    page = watched(VIEWER, f"/chat/room/{slug}/")
    mentions = page.locator(".scc-content .scc-mention")
    expect(mentions).to_have_count(len(ids))
    watcher.audit(page)
    names = ["@" + sender.name for sender in data.senders]
    assert mentions.all_text_contents() == names
    composer = page.locator("#composer textarea[name=content]")
    composer.fill(" ".join(f"@**x|{pk}**" for pk in ids[:20]))
    composer.press("Escape")  # closes the autocomplete if it opened
    composer.press("Enter")
    expect(mentions).to_have_count(len(ids) + 20)
    expect(page.locator("li.scc-message.scc-pending")).to_have_count(0)
    watcher.audit(page)
    assert mentions.all_text_contents()[len(ids) :] == names[:20]
    report("mentions", {"mentions": len(ids) + 20, "executions": len(watcher.executions)})


NOTIFY = """
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from smartcampus_chat import services
from smartcampus_chat.models import ChatParticipant
from tests.xss_corpus import PAYLOADS
User = get_user_model()
viewer = User.objects.get(username=%(viewer)r)
group = Group.objects.get(name=%(group)r)
senders = list(User.objects.filter(pk__in=%(ids)r).order_by("pk"))
texts = [p.text for p in PAYLOADS if len(p.text) <= 150][%(offset)d:]
per_room = 8
for start in range(0, len(senders), per_room):
    chunk = senders[start:start + per_room]
    room = services.do_create_room(
        viewer, name=texts[start][:100], room_type="group", group=group)
    ChatParticipant.objects.bulk_create([ChatParticipant(room=room, user=u) for u in chunk])
    for k, sender in enumerate(chunk):
        services.do_send_message(sender, room, f"@**x|{viewer.pk}** " + texts[start + k + 1])
"""


NOTIFY_ROOM = """
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from smartcampus_chat import services
from smartcampus_chat.models import ChatParticipant
from tests.xss_corpus import PAYLOADS
User = get_user_model()
viewer = User.objects.get(username=%(viewer)r)
room = services.do_create_room(viewer, name=PAYLOADS[5].text[:100], room_type="group",
                               group=Group.objects.get(name=%(group)r))
ChatParticipant.objects.create(room=room, user=User.objects.get(pk=%(id)d))
print(room.slug, viewer.pk)
"""


def test_notifications_of_hostile_names_rooms_and_texts(
    live_site: LiveServer, watched: Callable[..., Page], watcher: Watcher, data: Data
) -> None:
    """The senders (payload names) mention the viewer in rooms named by payloads, with
    payload texts: the notifications page (server) and the bell's panel (client, first
    page and "Load more", then one arriving live) show them as text, and nothing runs."""
    ids = [sender.id for sender in data.senders[:40]]
    spec = {"viewer": VIEWER, "group": data.group_name, "ids": ids, "offset": 0}
    live_site.manage("shell", "-c", NOTIFY % spec)
    page = watched(VIEWER, "/chat/notifications/")
    expect(page.locator("li.scc-notification")).to_have_count(30)
    watcher.audit(page)
    names = {sender.name for sender in data.senders[:40]}
    shown = set(page.locator(".scc-notify-actor").all_text_contents())
    assert shown <= names
    watcher.goto(page, "/chat/")
    page.locator(".scc-bell-button").click()
    items = page.locator("#scc-notifications li.scc-notification")
    expect(items).to_have_count(30)
    watcher.audit(page)
    assert set(items.locator(".scc-notify-actor").all_text_contents()) == shown
    page.locator("#scc-notifications .scc-notify-more").click()
    expect(items).not_to_have_count(30)
    watcher.audit(page)
    # Live: a sender mentions the viewer through the REST API (the server's process, whose
    # channel layer reaches the viewer's socket).
    sender = data.senders[40]
    made = live_site.manage(
        "shell", "-c", NOTIFY_ROOM % {"viewer": VIEWER, "group": data.group_name, "id": sender.id}
    )
    slug, viewer_id = made.strip().splitlines()[-1].split()
    before = items.count()
    answer = page.request.post(
        f"/chat/api/rooms/{slug}/messages/",
        headers={"Authorization": f"Token {sender.token}"},
        data={"content": f"@**x|{viewer_id}** " + PAYLOADS[7].text},
    )
    assert answer.ok, answer.text()
    expect(items).to_have_count(before + 1)
    expect(items.first.locator(".scc-notify-actor")).to_have_text(data.senders[40].name)
    watcher.audit(page)
    report("notifications", {"shown": items.count(), "executions": len(watcher.executions)})


ANONYMOUS_ROOM = """
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from smartcampus_chat import services
from smartcampus_chat.models import ChatParticipant
from tests.xss_corpus import PAYLOADS
User = get_user_model()
viewer = User.objects.get(username=%(viewer)r)
room = services.do_create_room(viewer, name="Anonymous questions", room_type="group",
                               group=Group.objects.get(name=%(group)r))
services.do_update_room(room, allow_anonymous=True)
senders = list(User.objects.filter(pk__in=%(ids)r).order_by("pk"))
ChatParticipant.objects.bulk_create([ChatParticipant(room=room, user=u) for u in senders])
for k, sender in enumerate(senders):
    services.do_send_message(sender, room, PAYLOADS[%(offset)d + k].text, anonymous=True)
print(room.slug)
"""
REVEALS = 4  # authors revealed in the browser (each a dialog, audited by the watcher)


def test_anonymous_posts_of_hostile_names_and_their_reveal(
    live_site: LiveServer, watched: Callable[..., Page], watcher: Watcher, data: Data
) -> None:
    """Senders with payload names post payload texts anonymously: the room shows them
    under "Anonymous classmate" only (none of the names anywhere in the list), and the
    viewer (the room's owner) reveals some authors: each name shows as text in the reveal
    dialog, and nothing runs."""
    senders = data.senders[50:62]
    spec = {
        "viewer": VIEWER,
        "group": data.group_name,
        "ids": [sender.id for sender in senders],
        "offset": 11,
    }
    slug = live_site.manage("shell", "-c", ANONYMOUS_ROOM % spec).strip().splitlines()[-1]
    page = watched(VIEWER, f"/chat/room/{slug}/")
    items = page.locator("#message-list li.scc-message")
    expect(items).to_have_count(len(senders))
    watcher.audit(page)
    authors = set(items.locator(".scc-author").all_text_contents())
    assert authors == {"Anonymous classmate"}
    assert set(items.evaluate_all("ns => ns.map(n => n.dataset.senderId)")) == {""}
    expect(page.locator("html")).to_have_attribute("data-scc-socket", "open")
    for k in range(REVEALS):
        message_action(items.nth(k), "reveal-author")
        dialog = page.locator("dialog.scc-reveal-dialog")
        dialog.locator("textarea").fill(f"reason {k}: {PAYLOADS[k].text[:400]}")
        dialog.locator('[data-action="confirm-reveal"]').click()
        shown = page.locator("dialog.scc-reveal-dialog .scc-revealed-name")
        expect(shown).to_have_text(f"This post was written by {senders[k].name}.")
        watcher.audit(page)
        page.keyboard.press("Escape")
        expect(shown).to_have_count(0)
    report("anonymous", {"revealed": REVEALS, "executions": len(watcher.executions)})


# Files dropped on the conversation (js/chat/attachments.js), named by the payloads.
DROP_FILES = """([files]) => {
  const dt = new DataTransfer();
  for (const [name, type, data] of files) {
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    dt.items.add(new File([bytes], name, {type}));
  }
  document.querySelector(".scc-conversation").dispatchEvent(
    new DragEvent("drop", {bubbles: true, cancelable: true, dataTransfer: dt}));
}"""

# Every file name a page shows, in the order of its attachments: [name, title, aria-label
# of the download] of a card; [title, alt] of an image.
SHOWN_FILES = """(root) => [...root.querySelectorAll("li.scc-attachment")].map((li) => {
  const thumb = li.querySelector("a.scc-thumb");
  if (thumb) return ["image", thumb.title, thumb.querySelector("img").alt];
  const name = li.querySelector(".scc-file-name");
  return ["file", name.textContent, name.title,
          li.querySelector(".scc-file-download").getAttribute("aria-label")];
})"""
FILE_BATCHES = 6  # messages of files (each at most ATTACHMENTS_PER_MESSAGE)


def _file_rows(name: str, kind: str) -> list[str]:
    return ["image", name, name] if kind == "image" else ["file", name, name, f"Download {name}"]


@pytest.mark.timeout(300)
def test_hostile_file_names_uploaded_and_rendered_live_and_by_the_server(
    watched: Callable[..., Page], watcher: Watcher, data: Data
) -> None:
    """Payloads as the names of files dropped in the composer: each shows as text in its
    chip, in the message sent (the sender's pending copy and a second tab's live copy,
    js/chat/files.js), after a reload (includes/attachment.html), on the room's files page
    and in the viewer's caption (an image without caption is described by its name)."""
    sender = watched(VIEWER, "/chat/")
    slug = Api(sender).create_room("xss files")
    watcher.goto(sender, f"/chat/room/{slug}/")
    observer = watched(VIEWER, f"/chat/room/{slug}/")
    per_message = sender.evaluate(
        "JSON.parse(document.getElementById('scc-config').textContent).attachmentsPerMessage"
    )
    sample = spread(PAYLOADS)[: FILE_BATCHES * per_message]
    chips = "#composer li.scc-upload"
    refused = 0
    picture = base64.b64encode(png(40, 30)).decode()
    text = base64.b64encode(b"plain text\n").decode()
    for batch in range(FILE_BATCHES):
        images = batch % 3 == 0  # a message of images without caption: alt = the name
        files = [
            [p.text, "image/png" if images else "text/plain", picture if images else text]
            for p in sample[batch * per_message : (batch + 1) * per_message]
        ]
        with watcher.reporting(sender):
            sender.evaluate(DROP_FILES, [files])
            expect(
                sender.locator(f"{chips}:not(.scc-upload-done, .scc-upload-error)")
            ).to_have_count(0)
        names = sender.locator("#composer .scc-upload-name").all_text_contents()
        assert names == [name for name, _type, _data in files]
        watcher.audit(sender)
        # A name that is all path ("x//") leaves no file name: refused, its error shown.
        failed = sender.locator(f"{chips}.scc-upload-error")
        refused += failed.count()
        while failed.count():
            failed.first.locator(".scc-upload-remove").click()
        box = sender.locator("#composer textarea[name=content]")
        if not images:
            box.fill(f"files {batch}")
        box.press("Enter")
        expect(sender.locator("#composer li.scc-upload")).to_have_count(0)

    # Sent (the viewer's send bucket may be spent by the other tests: sends then wait).
    expect(sender.locator("#message-list li.scc-pending")).to_have_count(0, timeout=60_000)
    refusals = sender.locator("#message-list li.scc-failed .scc-failed-reason")
    assert refusals.all_text_contents() == []
    # What the server stored (names cleaned: no path, no control characters), shown as is.
    listed = Api(sender).call("GET", f"rooms/{slug}/attachments/?limit=200")["results"]
    stored = {row["attachment"]["id"]: row["attachment"]["name"] for row in listed}
    history = Api(sender).call("GET", f"rooms/{slug}/messages/?limit=50")
    assert len(stored) == len(sample) - refused, (sender.url, history)
    assert refused < len(sample) // 10
    expected = sorted(
        _file_rows(row["attachment"]["name"], row["attachment"]["kind"]) for row in listed
    )

    def shown(page: Page, root: str = "#message-list") -> list[list[str]]:
        rows: list[list[str]] = page.locator(root).evaluate(SHOWN_FILES)
        return sorted(rows)

    with watcher.reporting(observer):
        expect(observer.locator("#message-list li.scc-attachment")).to_have_count(len(stored))
    for page in (sender, observer):
        watcher.audit(page)
        assert shown(page) == expected

    # The viewer: an image without caption shows its name as the caption, as text.
    thumb = observer.locator("#message-list li.scc-attachment-image").first
    name = stored[int(thumb.get_attribute("data-attachment-id") or 0)]
    thumb.locator("a.scc-thumb").click()
    caption = observer.locator("dialog.scc-viewer .scc-viewer-caption")
    expect(caption).to_have_text(name)
    watcher.audit(observer)
    assert caption.text_content() == name
    observer.keyboard.press("Escape")

    # Rendered by the server: the room page, then its files page.
    watcher.visit(observer, f"/chat/room/{slug}/")
    assert shown(observer) == expected
    watcher.visit(observer, f"/chat/room/{slug}/files/")
    assert shown(observer, "main") == expected
    watcher.assert_clean()
    report(
        "file names",
        {"files": len(stored), "refused": refused, "executions": len(watcher.executions)},
    )


OPEN_OFFICE_HOURS = """
from django.contrib.auth import get_user_model
from smartcampus_chat import services
from smartcampus_chat.models import ChatRoom
room = ChatRoom.objects.get(slug=%(slug)r)
services.check_open_office_hours(get_user_model().objects.get(username=%(viewer)r), room)
"""


@pytest.mark.timeout(600)
def test_office_hours_topics_and_names_of_every_payload_class(
    live_site: LiveServer, watched: Callable[..., Page], watcher: Watcher, data: Data
) -> None:
    """Senders (payload names) raise a hand with payload topics in the viewer's office
    hours (js/chat/office_hours.js renders the teacher's queue from REST, then live from
    ``office_hours.queue``): every name and topic shown as text, nothing runs."""
    live_site.manage("shell", "-c", OPEN_OFFICE_HOURS % {"slug": data.edit_slug, "viewer": VIEWER})
    topics = spread([p for p in PAYLOADS if len(p.text) <= 200])[:31]
    page = watched(VIEWER, "/chat/")

    def raise_hand(sender: Sender, topic: str) -> None:
        answer = page.request.post(
            f"/chat/api/rooms/{data.edit_slug}/office-hours/queue/",
            headers={"Authorization": f"Token {sender.token}"},
            data={"topic": topic},
        )
        assert answer.status == 201, answer.text()

    for sender, payload in zip(data.senders[:30], topics, strict=False):
        raise_hand(sender, payload.text)
    watcher.goto(page, f"/chat/room/{data.edit_slug}/")
    entries = page.locator("#scc-office-hours .scc-oh-entry")
    expect(entries).to_have_count(30)
    watcher.audit(page)
    pairs = zip(data.senders[:30], topics[:30], strict=True)
    expected = [(sender.name, " ".join(p.text.split())) for sender, p in pairs]
    shown = list(
        zip(
            entries.locator(".scc-oh-name").all_text_contents(),
            entries.locator(".scc-oh-topic").all_text_contents(),
            strict=True,
        )
    )
    assert shown == expected
    # Live: one more hand, through the frames.
    raise_hand(data.senders[30], topics[30].text)
    expect(entries).to_have_count(31)
    expect(entries.last.locator(".scc-oh-topic")).to_have_text(" ".join(topics[30].text.split()))
    watcher.audit(page)
    report("office_hours", {"shown": entries.count(), "executions": len(watcher.executions)})


ANNOUNCE = """
import json
from datetime import timedelta
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone
from smartcampus_chat import services
from smartcampus_chat.models import ChatParticipant, MessageKind
from tests.xss_corpus import PAYLOADS
User = get_user_model()
viewer = User.objects.get(username=%(viewer)r)
group = Group.objects.get(name=%(group)r)
senders = list(User.objects.filter(pk__in=%(ids)r).order_by("pk"))
texts = [p.text for p in PAYLOADS if len(p.text) <= 150]
firsts = list({p.kind: p.text for p in reversed(PAYLOADS) if len(p.text) <= 150}.values())
chosen = firsts + texts[:: max(1, len(texts) // 40)][:40]
now = timezone.now()
# The viewer is a member (asked to acknowledge) of a room a sender owns, and owns a room
# where the senders are asked (the moderators' lists name them).
theirs = services.do_create_room(senders[0], name=texts[11][:100], room_type="group", group=group)
mine = services.do_create_room(viewer, name=texts[12][:100], room_type="group", group=group)
ChatParticipant.objects.create(room=theirs, user=viewer)
ChatParticipant.objects.bulk_create([ChatParticipant(room=mine, user=u) for u in senders])
posted = {}
for k, text in enumerate(chosen):
    sender = senders[k %% len(senders)]
    due = now + timedelta(days=(k %% 3) - 1)  # some overdue
    message = services.do_send_message(
        sender, theirs, text, kind=MessageKind.ANNOUNCEMENT, requires_ack=True, ack_due=due
    ).message
    posted[message.pk] = [text, k %% len(senders)]
listed = services.do_send_message(
    viewer, mine, texts[13], kind=MessageKind.ANNOUNCEMENT, requires_ack=True).message
for sender in senders[: len(senders) // 2]:
    services.do_acknowledge(sender, listed)
print(json.dumps({"theirs": theirs.slug, "mine": mine.slug, "posted": posted,
                  "listed": listed.pk}))
"""


@pytest.mark.timeout(300)  # the hang guard sized for a busy machine (see above)
def test_announcements_of_every_payload_class(
    live_site: LiveServer, watched: Callable[..., Page], watcher: Watcher, data: Data
) -> None:
    """Announcements with payload texts, from senders with payload names: pinned at the
    top of the room (server), one arriving live (chat.js), acknowledged; the moderators'
    lists of who has and has not (server, then a live acknowledgement): text, and the
    formatting allow-list for the content; nothing runs."""
    senders = data.senders[:24]
    spec = {"viewer": VIEWER, "group": data.group_name, "ids": [s.id for s in senders]}
    made = json.loads(live_site.manage("shell", "-c", ANNOUNCE % spec).strip().splitlines()[-1])
    page = watched(VIEWER, f"/chat/room/{made['theirs']}/")
    items = page.locator("#scc-announcements .scc-announcement-item")
    expect(items).to_have_count(len(made["posted"]))
    watcher.audit(page)

    def shown() -> dict[str, tuple[str, str]]:
        rows: list[list[str]] = items.evaluate_all(
            """nodes => nodes.map(n => [n.dataset.announcementId,
                n.querySelector('.scc-announcement-content').textContent,
                n.querySelector('.scc-announcement-author').textContent])"""
        )
        return {row[0]: (row[1], row[2]) for row in rows}

    expected = {
        pk: (text_content(render(text)), f"Announcement from {senders[k].name}")
        for pk, (text, k) in made["posted"].items()
    }
    assert shown() == expected
    assert page.locator("#scc-announcements .scc-overdue-badge:visible").count() > 0
    # Live: the owner posts one more through the REST API (chat.js renders it).
    text = PAYLOADS[3].text
    answer = page.request.post(
        f"/chat/api/rooms/{made['theirs']}/messages/",
        headers={"Authorization": f"Token {senders[0].token}"},
        data={"content": text, "announcement": True, "requires_ack": True},
    )
    assert answer.ok, answer.text()
    expect(items).to_have_count(len(made["posted"]) + 1)
    watcher.audit(page)
    expected[str(answer.json()["id"])] = (
        text_content(render(text)),
        f"Announcement from {senders[0].name}",
    )
    assert shown() == expected
    items.first.get_by_role("button", name="I have read this").click()
    expect(items).to_have_count(len(made["posted"]))
    watcher.audit(page)

    # The moderators' lists: the senders' names, then one more acknowledging live.
    watcher.goto(page, f"/chat/room/{made['mine']}/")
    panel = page.locator(f'#scc-acks li[data-acks-id="{made["listed"]}"]')
    panel.locator("summary").click()
    half = len(senders) // 2
    expect(panel.locator(".scc-acks-done li")).to_have_count(half)
    watcher.audit(page)
    names = {sender.name for sender in senders}
    listed = panel.locator(".scc-acks-done li, .scc-acks-pending li").all_text_contents()
    assert set(listed) == names
    acked = page.request.post(
        f"/chat/api/rooms/{made['mine']}/messages/{made['listed']}/ack/",
        headers={"Authorization": f"Token {senders[-1].token}"},
    )
    assert acked.status == 201, acked.text()
    expect(panel.locator(".scc-acks-done li")).to_have_count(half + 1)
    expect(panel.locator(".scc-acks-done li").last).to_have_text(senders[-1].name)
    watcher.audit(page)
    report("announcements", {"shown": len(expected), "executions": len(watcher.executions)})


QUESTIONS = """
import json
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from smartcampus_chat import services
from smartcampus_chat.models import ChatParticipant
from tests.xss_corpus import PAYLOADS
User = get_user_model()
viewer = User.objects.get(username=%(viewer)r)
group = Group.objects.get(name=%(group)r)
senders = list(User.objects.filter(pk__in=%(ids)r).order_by("pk"))
texts = [p.text for p in PAYLOADS if len(p.text) <= 150]
firsts = list({p.kind: p.text for p in reversed(PAYLOADS) if len(p.text) <= 150}.values())
chosen = firsts + texts[:: max(1, len(texts) // 30)][:30]
room = services.do_create_room(senders[0], name=texts[14][:100], room_type="group", group=group)
ChatParticipant.objects.create(room=room, user=viewer)
ChatParticipant.objects.bulk_create([ChatParticipant(room=room, user=u) for u in senders[1:]])
room = services.do_update_room(room, qa_mode=True)
posted = {}
for k, text in enumerate(chosen):
    sender = senders[1 + k %% (len(senders) - 1)]
    question = services.do_send_message(sender, room, text).message
    posted[question.pk] = text
    if k %% 4 == 0:
        services.do_vote(senders[0], question, vote=True)
    if k == 0:
        answer = services.do_send_message(sender, room, texts[15], reply_to=question).message
        services.do_endorse(senders[0], answer, question, endorse=True)
print(json.dumps({"room": room.slug, "posted": posted}))
"""


@pytest.mark.timeout(300)  # the hang guard sized for a busy machine (see above)
def test_questions_of_every_payload_class(
    live_site: LiveServer, watched: Callable[..., Page], watcher: Watcher, data: Data
) -> None:
    """Q&A mode: questions with payload texts from senders with payload names, in the
    live questions panel (js/chat/questions.js, from the REST list) and one arriving live,
    an answer endorsed by a payload name: text only; nothing runs."""
    senders = data.senders[:24]
    spec = {"viewer": VIEWER, "group": data.group_name, "ids": [s.id for s in senders]}
    made = json.loads(live_site.manage("shell", "-c", QUESTIONS % spec).strip().splitlines()[-1])
    page = watched(VIEWER, f"/chat/room/{made['room']}/")
    items = page.locator("#scc-questions .scc-questions-item")
    expect(items).to_have_count(len(made["posted"]))
    endorser = page.locator(".scc-qa-endorser")
    expect(endorser).to_have_count(1)
    expect(endorser).to_have_text(f"Endorsed by {senders[0].name}")
    watcher.audit(page)

    def shown() -> dict[str, str]:
        rows: list[list[str]] = items.evaluate_all(
            """nodes => nodes.map(n => [n.dataset.question,
                n.querySelector('.scc-questions-link').textContent])"""
        )
        return {row[0]: row[1] for row in rows}

    expected = {pk: excerpt(render(text)) for pk, text in made["posted"].items()}
    assert shown() == expected
    text = PAYLOADS[5].text
    answer = page.request.post(
        f"/chat/api/rooms/{made['room']}/messages/",
        headers={"Authorization": f"Token {senders[1].token}"},
        data={"content": text},
    )
    assert answer.ok, answer.text()
    expect(items).to_have_count(len(made["posted"]) + 1)
    watcher.audit(page)
    expected[str(answer.json()["id"])] = excerpt(render(text))
    assert shown() == expected
    report("questions", {"shown": len(expected), "executions": len(watcher.executions)})


POLLS = """
import json
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from smartcampus_chat import services
from smartcampus_chat.domain.polls import clean_poll
from smartcampus_chat.models import ChatParticipant
from tests.xss_corpus import PAYLOADS
User = get_user_model()
viewer = User.objects.get(username=%(viewer)r)
group = Group.objects.get(name=%(group)r)
senders = list(User.objects.filter(pk__in=%(ids)r).order_by("pk"))
texts = [p.text for p in PAYLOADS if len(" ".join(p.text.split())) <= 200]
firsts = list({p.kind: p.text for p in reversed(PAYLOADS) if p.text in texts}.values())
chosen = firsts + texts[:: max(1, len(texts) // 40)][:40]
room = services.do_create_room(senders[0], name=texts[14][:100], room_type="group", group=group)
ChatParticipant.objects.create(room=room, user=viewer)
ChatParticipant.objects.bulk_create([ChatParticipant(room=room, user=u) for u in senders[1:]])
shown = {}
for start in range(0, len(chosen), 10):
    options, seen = [], set()
    for text in chosen[start : start + 10]:
        key = " ".join(text.split()).casefold()
        if key and key not in seen:
            seen.add(key)
            options.append(text)
    if len(options) < 2:
        continue
    spec = clean_poll({"options": options, "anonymous": start %% 20 == 10})
    message = services.do_send_message(senders[0], room, chosen[start], poll=spec).message
    ids = list(message.poll.options.order_by("position").values_list("pk", flat=True))
    for k, voter in enumerate(senders[1:8]):
        services.do_poll_vote(voter, message, [ids[k %% len(ids)]])
    shown[message.pk] = list(spec.options)
print(json.dumps({"room": room.slug, "polls": shown}))
"""


@pytest.mark.timeout(300)  # the hang guard sized for a busy machine (see above)
def test_polls_of_every_payload_class(
    live_site: LiveServer, watched: Callable[..., Page], watcher: Watcher, data: Data
) -> None:
    """Polls whose options are payload texts, voted for by senders with payload names:
    server-rendered then enhanced by js/chat/polls.js, one more arriving live and a live
    vote naming its voter: the options, the voters' names and the results are text;
    nothing runs."""
    senders = data.senders[:12]
    spec = {"viewer": VIEWER, "group": data.group_name, "ids": [s.id for s in senders]}
    made = json.loads(live_site.manage("shell", "-c", POLLS % spec).strip().splitlines()[-1])
    page = watched(VIEWER, f"/chat/room/{made['room']}/")
    polls = page.locator("#message-list li.scc-message .scc-poll-form")
    expect(polls).to_have_count(len(made["polls"]))
    watcher.audit(page)

    def shown() -> dict[str, list[str]]:
        rows: list[list[Any]] = page.locator("#message-list li.scc-message").evaluate_all(
            """nodes => nodes.filter(n => n.querySelector('.scc-poll-form')).map(n =>
                [n.dataset.id, [...n.querySelectorAll('.scc-poll-text')].map(
                    t => t.textContent)])"""
        )
        return {row[0]: row[1] for row in rows}

    expected = dict(made["polls"])
    assert shown() == expected
    voters = page.locator(".scc-poll-voters").all_text_contents()
    assert any(senders[1].name in text for text in voters)

    # Live: the owner posts one more (chat.js renders it), then a member votes (poll.updated).
    options = [PAYLOADS[5].text[:200], PAYLOADS[6].text[:200]]
    answer = page.request.post(
        f"/chat/api/rooms/{made['room']}/messages/",
        headers={"Authorization": f"Token {senders[0].token}"},
        data={"content": PAYLOADS[7].text, "poll": {"options": options}},
    )
    assert answer.ok, answer.text()
    expect(polls).to_have_count(len(made["polls"]) + 1)
    posted = answer.json()
    expected[str(posted["id"])] = [option["text"] for option in posted["poll"]["options"]]
    assert shown() == expected
    voted = page.request.put(
        f"/chat/api/rooms/{made['room']}/messages/{posted['id']}/poll/vote/",
        headers={"Authorization": f"Token {senders[2].token}"},
        data={"option_ids": [posted["poll"]["options"][1]["id"]]},
    )
    assert voted.ok, voted.text()
    live = page.locator(f"#message-{posted['id']} .scc-poll-voters")
    expect(live).to_have_count(1)
    expect(live).to_contain_text(senders[2].name)
    watcher.audit(page)
    report("polls", {"shown": len(expected), "executions": len(watcher.executions)})
