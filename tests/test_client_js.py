"""The browser client: valid JavaScript, no HTML injection, the hooks of docs/frontend.md.

Behaviour in a browser is covered by the browser tests; these checks run everywhere.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.template.loader import render_to_string

ROOT = Path(__file__).resolve().parent.parent
JS = ROOT / "src/smartcampus_chat/static/smartcampus_chat/js"
#: The entry module the pages load; it imports the modules of js/chat/.
CHAT_JS = JS / "chat.js"
MODULES = [CHAT_JS, *sorted((JS / "chat").glob("*.js"))]
SOURCE = "\n".join(path.read_text() for path in MODULES)
#: Runs a harness (below) as an ES module: it sets up its fake browser as globals, then
#: imports the entry module named by its first argument.
NODE_MODULE = ["node", "--input-type=module", "-e"]
#: The harnesses' last set-up line: the fake browser becomes the modules' globals.
LOAD_CLIENT = (
    "Object.assign(globalThis, sandbox); await import(pathToFileURL(process.argv[1]).href);"
)


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node for a syntax check")
@pytest.mark.parametrize("module", MODULES, ids=lambda path: path.name)
def test_chat_js_parses(module: Path) -> None:
    subprocess.run(["node", "--check", str(module)], check=True)


@pytest.mark.parametrize(
    "sink", ["innerHTML", "outerHTML", "insertAdjacentHTML", "eval(", "document.write"]
)
def test_chat_js_never_injects_html(sink: str) -> None:
    assert sink not in SOURCE


def test_the_client_parses_only_the_servers_html() -> None:
    """HTML is parsed in two places: a room's pane as the server's templates render it
    (router.js, ``?pane=1``) and a message's ``content_html``, the server's sanitised
    rendering (markup), in format.js."""
    parsers = [path.name for path in MODULES if "parseFromString" in path.read_text()]
    assert parsers == ["format.js", "router.js"]
    callers = re.findall(r"(showFormatted|plainTextOf)\(([^)]*)\)", SOURCE)
    assert callers
    for function, arguments in callers:
        assert arguments.split(", ")[-1] in ("html", "message.content_html"), function


@pytest.mark.parametrize(
    "hook",
    [
        "#scc-config",
        "#message-list",
        "template#scc-message-template",
        ".scc-author",
        "time.scc-time",
        ".scc-content",
        ".scc-edited",
        "scc-pending",
        "scc-deleted",
        "data-client-id",
        "[data-action]",
        "#composer",
        "#typing-indicator",
        "#participants",
        "scc-online",
        "scc-offline",
        "#connection-banner",
        "#live-region",
        "#my-rooms",
        ".scc-unread",
        ".scc-preview",
    ],
)
def test_chat_js_uses_the_documented_hooks(hook: str) -> None:
    bare = hook.lstrip("#.")
    assert hook in SOURCE or bare in SOURCE or re.search(re.escape(bare.split("#")[-1]), SOURCE)


def test_placeholders_filled_in_one_pass() -> None:
    # String.replace with a string reads "$&", "$'"... in the value: names must not be.
    assert '.replace("%(' not in SOURCE
    assert "function format(template, values)" in SOURCE


def test_protocol_close_codes_handled() -> None:
    for code in ("4001", "4003", "4004", "4005"):
        assert code in SOURCE


def test_include_loads_the_client_without_inline_script() -> None:
    html = render_to_string("smartcampus_chat/includes/realtime.html")
    assert 'src="/static/smartcampus_chat/js/chat.js"' in html
    assert "<script>" not in html


#: Runs the client in node with just enough of a browser: no DOM but the config node, a fake
#: WebSocket, a fake clock and timers. Prints, as JSON, the reconnect delays it chose.
RECONNECT_HARNESS = r"""
import { pathToFileURL } from "url";
const plan = JSON.parse(process.argv[2]);  // [[seconds the socket stays open, close code]]
let now = 1e12;
const timers = [], sockets = [], delays = [];
class FakeDate extends Date { static now() { return now; } }
function FakeSocket(url) {
  this.url = url; this.readyState = 0; this.listeners = {}; sockets.push(this);
}
FakeSocket.OPEN = 1;
FakeSocket.prototype.addEventListener = function (kind, fn) { this.listeners[kind] = fn; };
FakeSocket.prototype.send = function () {};
FakeSocket.prototype.close = function () {};
const node = { textContent: "{}" };
const document = {
  documentElement: { setAttribute: () => {} },
  getElementById: (id) => (id === "scc-config" ? node : null),
  querySelector: () => null, querySelectorAll: () => [], addEventListener: () => {},
  visibilityState: "visible",
};
const window = { location: { protocol: "http:", host: "campus.test" }, addEventListener: () => {} };
const sandbox = {
  document, window, WebSocket: FakeSocket, Date: FakeDate, Math, JSON, Object, Number, String,
  Array, console,
  setTimeout: (fn, ms) => { timers.push(fn); delays.push(ms); return timers.length; },
  clearTimeout: () => {}, setInterval: () => 0, clearInterval: () => {},
};
/* LOAD_CLIENT */
for (const [seconds, code] of plan) {
  const socket = sockets[sockets.length - 1];
  socket.readyState = 1;
  socket.listeners.open();
  now += seconds * 1000;
  socket.readyState = 3;
  const before = timers.length;
  socket.listeners.close({ code });
  if (timers.length === before) break;  // no reconnect planned: the client stopped
  timers[timers.length - 1]();  // the reconnect timer fires
}
console.log(JSON.stringify({ delays, sockets: sockets.length }));
""".replace("/* LOAD_CLIENT */", LOAD_CLIENT)


def _reconnect_delays(plan: list[tuple[float, int]]) -> list[float]:
    out = subprocess.run(
        [*NODE_MODULE, RECONNECT_HARNESS, str(CHAT_JS), json.dumps(plan)],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    result = json.loads(out.stdout)
    delays: list[float] = result["delays"]
    assert result["sockets"] == len(delays) + 1
    return delays


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the client")
@pytest.mark.parametrize("code", [4029, 4008, 1013])
def test_sockets_closed_right_after_opening_back_off(code: int) -> None:
    """The server accepts, then closes with a code (too many sockets or resumes, too slow,
    unavailable): the handshake's ``open`` must not reset the backoff, or every tab
    reconnects every 0.25-0.75 s for as long as the refusal lasts (each a handshake, a
    presence row and a resume against the limits)."""
    delays = _reconnect_delays([(0.1, code)] * 6)
    # 0.5 s x 2^attempt, times 0.5-1.5: the sixth wait is at least 8 s.
    assert delays[5] >= 8000, delays


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the client")
def test_a_socket_that_lived_reconnects_at_once() -> None:
    """A socket that served for a while and dropped (a deploy, a network change) starts the
    backoff again from its first step."""
    delays = _reconnect_delays([(0.1, 1006)] * 4 + [(60, 1006)])
    assert delays[3] >= 2000, delays
    assert delays[4] <= 750, delays


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the client")
def test_a_signed_out_socket_reconnects_once_then_stops() -> None:
    """4001 on a socket that served: changing one's password in this browser ends the
    sockets opened with the old session key (``update_session_auth_hash`` rotates it) while
    the cookie holds the new one. One reconnect decides; a second 4001 is final (no more
    sockets), and the first socket of the next session may retry once again."""
    assert len(_reconnect_delays([(60, 4001)])) == 1  # Reconnected once.
    assert len(_reconnect_delays([(60, 4001), (0.1, 4001), (0.1, 4001)])) == 1  # Then stopped.
    # A logout much later (after a socket that served): one retry again, then stopped.
    assert len(_reconnect_delays([(60, 4001), (60, 4001), (0.1, 4001)])) == 2


#: chat.js on a room page (config ``room``, ``lastSeq``, ``lastEventSeq``) with a fake
#: WebSocket and timers; its socket is open. A test's steps (``*_STEPS``) follow it.
ROOM_PAGE = r"""
import { pathToFileURL } from "url";
const timers = [], delays = [], sent = [];
let socket = null, now = 1e12;
class FakeDate extends Date { static now() { return now; } }
function FakeSocket(url) {
  this.url = url; this.readyState = 0; this.listeners = {}; socket = this;
}
FakeSocket.OPEN = 1;
FakeSocket.prototype.addEventListener = function (kind, fn) { this.listeners[kind] = fn; };
FakeSocket.prototype.send = function (text) { sent.push(JSON.parse(text)); };
FakeSocket.prototype.close = function () {};
const node = { textContent: JSON.stringify({ room: "general", lastSeq: 5, lastEventSeq: 5 }) };
const announced = [];
const live = {
  set textContent(value) { announced.push(value); }, get textContent() { return ""; },
};
const document = {
  documentElement: { setAttribute: () => {} },
  getElementById: (id) => (id === "scc-config" ? node : null),
  querySelector: (sel) => (sel === "#live-region" ? live : null),
  querySelectorAll: () => [], addEventListener: () => {}, visibilityState: "visible",
};
const window = { location: { protocol: "http:", host: "campus.test" }, addEventListener: () => {} };
const sandbox = {
  document, window, WebSocket: FakeSocket, Date: FakeDate, Math, JSON, Object, Number, String,
  Array, console,
  setTimeout: (fn, ms) => { timers.push(fn); delays.push(ms); return timers.length; },
  clearTimeout: () => {}, setInterval: () => 0, clearInterval: () => {},
};
/* LOAD_CLIENT */
socket.readyState = 1;
socket.listeners.open();
""".replace("/* LOAD_CLIENT */", LOAD_CLIENT)

#: The client sends its read marker, the server refuses it ``rate_limited``. Prints the
#: frames sent and the timers planned, then fires the last timer and prints the frames again.
READ_STEPS = r"""
const read = sent.filter((f) => f.type === "read")[0];
const error = { type: "error", code: "rate_limited", message: "Too often.", retry_after: 3,
  id: read.id === undefined ? null : read.id };
socket.listeners.message({ data: JSON.stringify(error) });
const before = sent.filter((f) => f.type === "read").length;
const delay = delays.length ? delays[delays.length - 1] : null;
now += delay || 0;
if (timers.length) timers[timers.length - 1]();
const after = sent.filter((f) => f.type === "read").length;
console.log(JSON.stringify({ before, after, delay, announced, read }));
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the client")
def test_a_rate_limited_read_marker_is_sent_again_quietly() -> None:
    """Opening many room pages quickly runs into ``READ_RATE_*``: the refused marker must
    be sent again after ``retry_after`` (or the room stays unread) and is nothing to
    announce to a screen reader."""
    out = subprocess.run(
        [*NODE_MODULE, ROOM_PAGE + READ_STEPS, str(CHAT_JS)],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    result = json.loads(out.stdout)
    assert result["read"]["seq"] == 5
    assert result["announced"] == []
    assert result["delay"] >= 3000
    assert (result["before"], result["after"]) == (1, 2)


#: The connect's replay ends (``resumed`` 5), live frames 6 then 8 come (7 was lost): the
#: client resumes from 6; the server refuses that resume with the error code given. Fires
#: the timer the client planned, prints the resumes sent, the delay, and the address of the
#: socket that replaces the first once it drops.
GAP_STEPS = r"""
const code = process.argv[2];
const frame = (data) => socket.listeners.message({ data: JSON.stringify(data) });
const message = (eventSeq) => ({ type: "message.new", message: {
  id: eventSeq, seq: eventSeq, event_seq: eventSeq, room: "general", content: "hi",
  sender: null, created_at: "2026-01-01T00:00:00Z" } });
frame({ type: "resumed", room: "general", event_seq: 5, truncated: false });
frame(message(6));
frame(message(8));
const first = sent.filter((f) => f.type === "resume");
const error = { type: "error", code, message: "Not now.", retry_after: 0.01,
  id: first.length ? first[0].id : null };
frame(error);
const delay = delays.length ? delays[delays.length - 1] : null;
if (timers.length) timers[timers.length - 1]();
const resumes = sent.filter((f) => f.type === "resume");
socket.readyState = 3;  // Lost before the retry is answered: the reconnect replays.
socket.listeners.close({ code: 1006 });
timers[timers.length - 1]();
console.log(JSON.stringify({ delay, resumes, reconnect: socket.url }));
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the client")
@pytest.mark.parametrize("code", ["rate_limited", "unavailable"])
def test_a_refused_gap_resume_is_retried_from_where_the_gap_started(code: str) -> None:
    """A gap in ``event_seq`` (a live frame lost) moves the client's number past it at
    once and resumes from the old one. If the server refuses that resume (too many
    resumes, or its database is down), the retry must ask again from the gap's start,
    after ``retry_after``: from the moved number the lost frame is never fetched, and
    without a retry it is missed until a reload. A reconnect before the answer replays
    from there too."""
    out = subprocess.run(
        [*NODE_MODULE, ROOM_PAGE + GAP_STEPS, str(CHAT_JS), code],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    result = json.loads(out.stdout)
    first, *retries = result["resumes"]
    assert (first["room"], first["event_seq"]) == ("general", 6)
    assert result["delay"] == 10
    assert [(r["room"], r["event_seq"]) for r in retries] == [("general", 6)]
    assert retries[0]["id"] != first["id"]
    assert result["reconnect"].endswith("?v=1&event_seq=6")


def test_include_preloads_every_module_as_the_entry_imports_it() -> None:
    """Without the preloads the browser finds the modules one import level at a time (a
    round trip per level, five levels deep) before the socket opens."""
    html = render_to_string("smartcampus_chat/includes/realtime.html")
    preloaded = re.findall(r'<link rel="modulepreload" href="([^"]+)">', html)
    assert preloaded == [f"/static/smartcampus_chat/js/chat/{p.name}" for p in MODULES[1:]]
    assert html.index("modulepreload") < html.index("<script")
