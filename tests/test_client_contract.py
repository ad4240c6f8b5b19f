"""The contract between the server and the browser client (issue #15, defect 1).

The page config built by ``smartcampus_chat.web.page_config.client_config`` is the only source of
what the client reads: every ``config.<key>`` the JavaScript reads is sent, every key sent is
read, every translated string it shows comes from ``i18n`` in the page's language, URLs
follow where the host mounted the app, and typing timings follow ``TYPING_TIMEOUT``. The
frame types the client dispatches are the ones the server sends.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any, get_args

import pytest
from django.contrib.auth.views import LoginView
from django.test import Client
from django.urls import include, path, reverse

from smartcampus_chat.models import ChatRoom
from smartcampus_chat.protocol import frames as schema
from smartcampus_chat.routing import websocket_urlpatterns
from smartcampus_chat.web.page_config import client_config, client_strings, typing_timings

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src/smartcampus_chat"
JS = PACKAGE / "static/smartcampus_chat/js"
CHAT_JS = JS / "chat.js"
SOURCE = "\n".join(p.read_text() for p in [CHAT_JS, *sorted((JS / "chat").glob("*.js"))])

#: A host that mounts the chat at /messages/ instead of the example site's /chat/
#: (``pytest.mark.urls(__name__)``).
urlpatterns = [
    path("accounts/login/", LoginView.as_view(), name="login"),
    path("messages/", include("smartcampus_chat.urls")),
]

needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the client")


def _page_config(client: Client, url: str, **headers: Any) -> dict[str, Any]:
    response = client.get(url, **headers)
    assert response.status_code == 200
    html = response.content.decode()
    found = re.search(r'<script id="scc-config" type="application/json">(.*?)</script>', html, re.S)
    assert found, "the page has no #scc-config"
    config: dict[str, Any] = json.loads(found.group(1))
    return config


# --- Keys -----------------------------------------------------------------------------------


def _keys_read() -> set[str]:
    return set(re.findall(r"\bconfig\.(\w+)", SOURCE)) | set(
        re.findall(r"""\bconfig\[\s*["'](\w+)["']\s*\]""", SOURCE)
    )


def _strings_read() -> set[str]:
    """i18n keys: ``t("key")`` calls and the banner keys of the close codes."""
    return set(re.findall(r"""\bt\(\s*["'](\w+)["']""", SOURCE)) | set(
        re.findall(r"""\b4\d\d\d:\s*["'](\w+)["']""", SOURCE)
    )


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["room", "room_list"])
def test_every_config_key_the_client_reads_is_sent_and_every_key_sent_is_read(
    client: Client, alice: Any, public_room: ChatRoom, page: str
) -> None:
    client.force_login(alice)
    url = (
        public_room.get_absolute_url() if page == "room" else reverse("smartcampus_chat:room_list")
    )
    sent = set(_page_config(client, url))
    read = _keys_read()
    assert read - sent == set(), "read by the client, never sent by client_config"
    assert sent - read == set(), "sent by client_config, read by no client module"


def test_every_string_the_client_shows_is_sent_translated() -> None:
    read = _strings_read()
    assert {"closedAuth", "closedForbidden", "closedGone", "closedVersion"} <= read
    assert read - set(client_strings()) == set()
    # No English typed in the client: t() takes the key only.
    assert not re.search(r"""\bt\(\s*["']\w+["']\s*,""", SOURCE)


# --- Running the client ---------------------------------------------------------------------

#: Runs the client (ES modules) in node with a fake DOM: the config node, the banner, the
#: room list, the composer. Takes {config, steps}; prints the banner, the room list's links,
#: the frames sent and the timers planned.
HARNESS = r"""
import { pathToFileURL } from "url";
const { config, steps } = JSON.parse(process.argv[2]);
let now = 1e12, socket = null;
const timers = [], sent = [];
class FakeDate extends Date { static now() { return now; } }
function FakeSocket() { this.readyState = 0; this.listeners = {}; socket = this; }
FakeSocket.OPEN = 1;
FakeSocket.prototype.addEventListener = function (kind, fn) { this.listeners[kind] = fn; };
FakeSocket.prototype.send = function (text) { sent.push(JSON.parse(text)); };
FakeSocket.prototype.close = function () {};
function element(tag, inside) {
  return {
    tagName: tag, attrs: {}, children: [], listeners: {}, hidden: true, textContent: "",
    value: "", inside: inside || {},
    classList: { add() {}, remove() {}, toggle() {}, contains: () => false },
    setAttribute(k, v) { this.attrs[k] = String(v); },
    getAttribute(k) { return k in this.attrs ? this.attrs[k] : null; },
    appendChild(c) { this.children.push(c); c.parentNode = this; return c; },
    insertBefore(c, ref) {
      const i = this.children.indexOf(ref);
      if (i < 0) this.children.push(c); else this.children.splice(i, 0, c);
      c.parentNode = this; return c;
    },
    get firstElementChild() { return this.children[0] || null; },
    querySelector(sel) { return this.inside[sel] || null; },
    querySelectorAll: () => [],
    addEventListener(kind, fn) { this.listeners[kind] = fn; },
  };
}
const textarea = element("textarea");
const publicRooms = element("ul");
const dom = {
  "#connection-banner": element("div"),
  "#my-rooms": element("div", {
    'section[data-section="public"]': element("section", { ul: publicRooms }),
  }),
  "#typing-indicator": element("div"),
  "#composer": element("form", { "textarea[name=content]": textarea }),
  "#composer textarea[name=content]": textarea,
};
const configNode = { textContent: JSON.stringify(config) };
const document = {
  documentElement: { setAttribute: () => {} },
  getElementById: (id) => (id === "scc-config" ? configNode : null),
  querySelector: (sel) => dom[sel] || null, querySelectorAll: () => [],
  createElement: (tag) => element(tag), createTextNode: (text) => ({ textContent: text }),
  addEventListener: () => {}, visibilityState: "visible",
};
const window = { location: { protocol: "http:", host: "campus.test" }, addEventListener: () => {} };
const sandbox = {
  document, window, WebSocket: FakeSocket, Date: FakeDate,
  setTimeout: (fn, ms) => { timers.push({ fn, ms, at: now + ms }); return timers.length; },
  clearTimeout: (id) => { if (id && timers[id - 1]) timers[id - 1].fn = null; },
  setInterval: () => 0, clearInterval: () => {},
};
Object.assign(globalThis, sandbox);
await import(pathToFileURL(process.argv[1]).href);
for (const [step, arg] of steps) {
  if (step === "open") { socket.readyState = 1; socket.listeners.open(); }
  if (step === "frame") socket.listeners.message({ data: JSON.stringify(arg) });
  if (step === "close") { socket.readyState = 3; socket.listeners.close({ code: arg }); }
  if (step === "type") { textarea.value = arg; textarea.listeners.input(); }
  if (step === "wait") {  // the clock moves on; timers due by then fire
    now += arg;
    for (const timer of timers) {
      if (timer.fn && timer.at <= now) { const fn = timer.fn; timer.fn = null; fn(); }
    }
  }
}
const banner = dom["#connection-banner"];
console.log(JSON.stringify({
  banner: banner.hidden ? null : banner.textContent,
  rooms: publicRooms.children.map(
    (li) => ({ href: li.children[0].href, text: li.children[0].title })),
  sent, delays: timers.map((timer) => timer.ms),
}));
"""


def run_client(config: dict[str, Any], steps: list[list[Any]]) -> dict[str, Any]:
    out = subprocess.run(
        [
            "node",
            "--input-type=module",
            "-e",
            HARNESS,
            str(CHAT_JS),
            json.dumps({"config": config, "steps": steps}),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    result: dict[str, Any] = json.loads(out.stdout)
    return result


# --- French banners ---------------------------------------------------------------------------


@needs_node
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("code", "french"),
    [
        (4003, "Vous n\u2019avez plus accès à ce salon."),
        (4004, "Ce salon a été supprimé."),
        (4005, "Cette page n\u2019est plus à jour. Rechargez-la pour continuer la discussion."),
    ],
)
def test_a_french_reader_sees_the_closing_banner_in_french(
    client: Client, alice: Any, public_room: ChatRoom, code: int, french: str
) -> None:
    client.force_login(alice)
    config = _page_config(client, public_room.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="fr")
    result = run_client(config, [["open", None], ["close", code]])
    assert result["banner"] == french


@needs_node
@pytest.mark.django_db
def test_a_french_reader_removed_from_the_room_is_told_in_french(
    client: Client, alice: Any, public_room: ChatRoom
) -> None:
    client.force_login(alice)
    config = _page_config(client, public_room.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="fr")
    result = run_client(
        config, [["open", None], ["frame", {"type": "room.removed", "room": public_room.slug}]]
    )
    assert result["banner"] == "Vous n\u2019avez plus accès à ce salon."


# --- URLs follow the host's mount point -------------------------------------------------------


@needs_node
@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_a_room_added_live_links_under_the_hosts_prefix(
    client: Client, alice: Any, public_room: ChatRoom
) -> None:
    client.force_login(alice)
    list_url = reverse("smartcampus_chat:room_list")
    assert list_url == "/messages/"
    config = _page_config(client, list_url)
    room = {
        "slug": "study-group",
        "name": "Study group",
        "title": "Study group",
        "room_type": "public",
        "is_archived": False,
        "last_event_seq": 3,
    }
    result = run_client(config, [["open", None], ["frame", {"type": "room.added", "room": room}]])
    assert result["rooms"] == [{"href": "/messages/room/study-group/", "text": "Study group"}]
    assert result["rooms"][0]["href"] == reverse("smartcampus_chat:room", args=["study-group"])


@pytest.mark.django_db
def test_the_websocket_path_is_written_once(alice: Any, public_room: ChatRoom) -> None:
    """The endpoints' path is the ``WS_PREFIX`` setting (its default written once, in
    ``conf.py``), read by ``protocol.frames.ws_path``: routing, pages, tickets use it."""
    literal = re.compile(r"""["'}/]ws/chat\b""")
    places = [
        f"{p.relative_to(PACKAGE)}:{n}"
        for p in [*PACKAGE.rglob("*.py"), *JS.rglob("*.js")]
        for n, line in enumerate(p.read_text().splitlines(), 1)
        if literal.search(line)
    ]
    assert len(places) == 1, places
    assert places[0].startswith("conf.py:")
    # And what the pages send is what the router routes.
    routes = {p.name: p for p in websocket_urlpatterns}
    user_url = client_config(alice)["wsUrl"]
    assert client_config(alice, public_room)["wsUrl"] == user_url  # the shell's one socket
    room_url = client_config(alice, public_room)["roomWsUrl"]
    assert routes["smartcampus_chat_user_ws"].pattern.match(user_url.lstrip("/"))
    matched = routes["smartcampus_chat_room_ws"].pattern.match(room_url.lstrip("/"))
    assert matched
    assert matched[2] == {"slug": public_room.slug}


# --- Typing timings follow TYPING_TIMEOUT -----------------------------------------------------


@needs_node
@pytest.mark.django_db
def test_typing_timings_follow_the_typing_timeout_setting(
    client: Client, alice: Any, public_room: ChatRoom, settings: Any
) -> None:
    settings.SMARTCAMPUS_CHAT = {**settings.SMARTCAMPUS_CHAT, "TYPING_TIMEOUT": 10}
    client.force_login(alice)
    config = _page_config(client, public_room.get_absolute_url())
    assert (config["typingRefreshMs"], config["typingIdleMs"]) == (6000, 8000)

    def typing_frames(steps: list[list[Any]]) -> list[str]:
        sent = run_client(config, [["open", None], *steps])["sent"]
        return [frame["state"] for frame in sent if frame["type"] == "typing"]

    # Refreshed before the others' indicator expires (10 s), not every 3 s.
    assert typing_frames([["type", "h"], ["wait", 3500], ["type", "he"]]) == ["started"]
    assert typing_frames([["type", "h"], ["wait", 6500], ["type", "he"]]) == ["started", "started"]
    # "stopped" after 8 s without a keystroke, not 4 s.
    assert typing_frames([["type", "h"], ["wait", 4500]]) == ["started"]
    assert typing_frames([["type", "h"], ["wait", 8500]]) == ["started", "stopped"]


def test_typing_timings_never_refresh_faster_than_the_typing_rate(settings: Any) -> None:
    settings.SMARTCAMPUS_CHAT = {
        **settings.SMARTCAMPUS_CHAT,
        "TYPING_TIMEOUT": 2,
        "TYPING_RATE_PER_SECOND": 0.5,
    }
    assert typing_timings() == {"typingRefreshMs": 2000, "typingIdleMs": 1600}


# --- Frame types ------------------------------------------------------------------------------


def _server_frame_types() -> set[str]:
    union = get_args(schema.ServerFrame)[0]
    return {model.model_fields["type"].default for model in get_args(union)}


def _dispatched_types() -> set[str]:
    table = re.search(r"const FRAME_HANDLERS = \{(.*?)\n\};", CHAT_JS.read_text(), re.S)
    assert table, "chat.js has no FRAME_HANDLERS table"
    return set(re.findall(r"""^\s*["']?([\w.]+)["']?\s*:""", table.group(1), re.M))


def test_the_client_dispatches_exactly_the_frame_types_the_server_sends() -> None:
    server = _server_frame_types()
    assert len(server) >= 16
    client = _dispatched_types()
    assert client - server == set(), "handled by the client, not in the server's schema"
    assert server - client == set(), "sent by the server, no handler in FRAME_HANDLERS"
    assert "switch (" not in SOURCE  # One table, not a switch.
