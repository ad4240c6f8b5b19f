"""WebSocket conformance under uvicorn, with each of its WebSocket implementations.

Two kinds of check, both against real uvicorn processes of the example site with the
test-only echo route of tests/echo_asgi.py (the chat's own middleware stack):

- The Autobahn test suite's fuzzing client, cases 1 to 7 (framing, pings, reserved bits,
  opcodes, fragmentation, UTF-8, closing): every case must end OK, NON-STRICT or
  INFORMATIONAL. Autobahn runs on Python 2.7 only: the test looks for one (pyenv's, or
  ``python2.7`` on the PATH, or ``AUTOBAHN_PYTHON``) and installs the pinned
  ``autobahntestsuite`` into a cache directory once. Without Python 2.7 it skips, in CI
  too (no registry the CI reaches ships a Python 2.7 for this system); with one, a
  failed install skips outside CI and fails in CI (the project's rule: what CI can
  install, it installs).
- The protocol's edges that only a raw client shows (docs/protocol.md, "Close codes"):
  invalid UTF-8 in a text frame is closed 1007 by the server before the application sees
  it; a binary frame is answered ``binary_not_supported`` and the socket stays open.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import glob
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from smartcampus_chat.testing.wire import client_frame, parse_server_frame, room_path
from tests.servers import Site, open_ws, seed_site, site_env, stop_process

pytestmark = [pytest.mark.redis, pytest.mark.slow]

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
#: The echo route of tests/echo_asgi.py (not imported: that module sets up an ASGI
#: application for the servers, not for this process).
ECHO_PATH = "ws/echo/"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

#: The package's own protocol for many idle sockets (``--ws`` takes an import string):
#: uvicorn's sans-I/O one keeping less per socket (smartcampus_chat/infra/uvicorn_sockets.py).
LEAN = "smartcampus_chat.infra.uvicorn_sockets:WebSocketProtocol"
#: Short names (test ids, Autobahn's agent names) of the implementations not named so.
SHORT = {LEAN: "smartcampus-chat"}
#: uvicorn's WebSocket implementations tested: the two of the issue, the sans-I/O one that
#: ``--ws websockets`` will point at in a future uvicorn, and the package's variant of it.
IMPLEMENTATIONS = ["websockets", "websockets-sansio", "wsproto", LEAN]

#: What a client sees when it sends invalid UTF-8 in a text frame (docs/protocol.md).
INVALID_UTF8_CLOSE = {"websockets": 1007, "websockets-sansio": 1007, "wsproto": 1006, LEAN: 1007}

AUTOBAHN_VERSION = "25.10.1"
#: Cases 1.* to 7.* in that version (9.* are performance, 12.*/13.* compression).
AUTOBAHN_CASES = 246
#: The outcomes that pass: the spec is met (OK), met less strictly than it could be
#: (NON-STRICT: e.g. a close sent before the rest of a fragmented message was read), or
#: nothing to judge (INFORMATIONAL: the close code or reason a peer chose).
PASSING = frozenset({"OK", "NON-STRICT", "INFORMATIONAL"})
#: Cases an implementation is known to fail, each with the reason: the test fails if one
#: of them passes again (drop it then) as it fails on any other failure.
KNOWN_FAILURES: dict[str, dict[str, str]] = {
    "websockets-sansio": {
        # websockets' sans-I/O protocol (websockets 15-17) refuses a Close frame that comes
        # between the fragments of a message with 1002 "incomplete fragmented message";
        # RFC 6455 §5.4 lets control frames come there, and Autobahn wants 1000.
        "7.1.5": "1002 on a Close inside a fragmented message",
    },
    LEAN: {"7.1.5": "1002 on a Close inside a fragmented message (as websockets-sansio)"},
}
#: Runs wstest from the cache directory (argv[1]); ``addsitedir`` reads its .pth files
#: (zope's namespace package), which ``PYTHONPATH`` would not.
WSTEST = (
    "import site, sys; site.addsitedir(sys.argv[1]); sys.argv = ['wstest'] + sys.argv[2:]; "
    "from autobahntestsuite.wstest import run; run()"
)


def _skip_or_fail(reason: str, *, installable: bool = True) -> NoReturn:
    """Skip, or in CI fail when the CI could have installed what is missing."""
    if IN_CI and installable:
        pytest.fail(f"{reason} (required in CI)")
    pytest.skip(reason)


def _available(implementation: str) -> bool:
    from uvicorn.config import WS_PROTOCOLS

    if implementation == LEAN:
        return "websockets-sansio" in WS_PROTOCOLS
    if implementation not in WS_PROTOCOLS:
        return False
    if implementation == "wsproto":
        try:
            import wsproto  # noqa: F401
        except ImportError:
            return False
    return True


# --- Servers -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The example site (one user, one room) to start servers of; stopped at the end."""
    env = site_env(tmp_path_factory.mktemp("conformance"), redis_url=REDIS_URL)
    site = seed_site(env, users=1)
    try:
        yield site
    finally:
        site.stop()


@pytest.fixture(scope="module", params=IMPLEMENTATIONS, ids=lambda i: SHORT.get(i, i))
def server(request: pytest.FixtureRequest, site: Site) -> Iterator[tuple[str, int]]:
    """(implementation, port) of a uvicorn of ``tests.echo_asgi`` with that ``--ws``."""
    implementation: str = request.param
    if not _available(implementation):
        _skip_or_fail(
            f"uvicorn's {implementation} WebSocket implementation is not installed",
            installable=implementation == "wsproto",
        )
    port = site.start_server(application="tests.echo_asgi:application", ws=implementation)
    process = site.servers[-1][1]
    try:
        yield implementation, port
    finally:
        stop_process(process)


async def _open(port: int, path: str, origin: str | None = None) -> ClientConnection:
    return await connect(
        f"ws://127.0.0.1:{port}{path}",
        origin=origin or f"http://127.0.0.1:{port}",  # type: ignore[arg-type]
        open_timeout=5,
        close_timeout=1,
    )


async def _frame(ws: ClientConnection, kind: str) -> dict[str, Any]:
    """The next frame of type ``kind``, passing over the frames a room socket gets on its
    own (its member list, presence)."""
    while True:
        frame = parse_server_frame(await asyncio.wait_for(ws.recv(), 5))
        if frame["type"] == kind:
            return frame
        assert frame["type"] in {"participants", "presence", "presence.batch"}, frame


async def _close_code(ws: ClientConnection) -> int | None:
    """Read until the server closes; the code it sent."""
    with contextlib.suppress(ConnectionClosed):
        while True:
            await asyncio.wait_for(ws.recv(), 5)
    return ws.close_code


# --- The echo route sits behind the chat's stack --------------------------------------------


async def test_the_echo_route_is_behind_the_origin_check(server: tuple[str, int]) -> None:
    _implementation, port = server
    ws = await _open(port, f"/{ECHO_PATH}")
    try:
        await ws.send("é")
        assert await asyncio.wait_for(ws.recv(), 5) == "é"
        await ws.send(b"\x00\xff")
        assert await asyncio.wait_for(ws.recv(), 5) == b"\x00\xff"
    finally:
        await ws.close()
    with pytest.raises(InvalidStatus) as refused:
        await _open(port, f"/{ECHO_PATH}", origin="http://evil.example")
    assert refused.value.response.status_code == 403


def test_the_echo_route_is_not_in_the_package() -> None:
    from smartcampus_chat.routing import websocket_urls

    assert all("echo" not in str(pattern.pattern) for pattern in websocket_urls())


# --- Edges of the chat's own socket ---------------------------------------------------------


async def test_invalid_utf8_in_a_text_frame_is_closed_1007(
    site: Site, server: tuple[str, int]
) -> None:
    """The server validates text frames (RFC 6455 §8.1): the application never sees the
    bytes, so no ``bad_json`` is possible; the socket is closed and the process serves the
    next one as usual. With ``websockets`` the close frame says 1007; uvicorn's ``wsproto``
    protocol drops the connection without a close frame (wsproto reports the failure as a
    close event, which uvicorn does not answer), so the client sees 1006."""
    implementation, port = server
    ws = await open_ws(port, site.users[0], room_path(site.room))
    await ws.send(client_frame(type="ping", id="before"))
    assert (await _frame(ws, "pong"))["id"] == "before"
    await ws.send(b'{"type": "ping", "id": "\xff\xfe"}', text=True)
    assert await _close_code(ws) == INVALID_UTF8_CLOSE[implementation]
    again = await open_ws(port, site.users[0], room_path(site.room))
    try:
        await again.send(client_frame(type="ping", id="after"))
        assert (await _frame(again, "pong"))["id"] == "after"
    finally:
        await again.close()


async def test_a_binary_frame_is_answered_and_the_socket_stays_open(
    site: Site, server: tuple[str, int]
) -> None:
    _implementation, port = server
    ws = await open_ws(port, site.users[0], room_path(site.room))
    try:
        await ws.send(client_frame(type="ping", id="x").encode())  # Valid JSON, but binary.
        error = await _frame(ws, "error")
        assert error["code"] == "binary_not_supported"
        assert error["id"] is None
        await ws.send(client_frame(type="ping", id="still-open"))
        assert (await _frame(ws, "pong"))["id"] == "still-open"
    finally:
        await ws.close()


# --- Autobahn ------------------------------------------------------------------------------


def _python27() -> str | None:
    pyenv = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    candidates = [
        os.environ.get("AUTOBAHN_PYTHON"),
        *sorted(glob.glob(os.path.join(pyenv, "versions", "2.7*", "bin", "python")), reverse=True),
        shutil.which("python2.7"),  # Maybe a pyenv shim that runs nothing: tried last.
    ]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK) and _is_python27(candidate):
            return candidate
    return None


def _is_python27(python: str) -> bool:
    try:
        answer = subprocess.run(
            [python, "-c", "import sys; print(sys.version_info[:2] == (2, 7))"],
            env=_python27_env(),
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return answer.stdout.strip() == "True"


def _python27_env() -> dict[str, str]:
    """Python 2.7's environment: none of this Python's paths or settings."""
    keep = ("PATH", "HOME", "LANG", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS")
    keep += ("PIP_CERT", "PIP_DEFAULT_TIMEOUT", "PIP_CONFIG_FILE", "SSL_CERT_FILE")
    return {name: os.environ[name] for name in keep if name in os.environ}


def _cache_dir() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return Path(root) / "smartcampus-chat" / f"autobahntestsuite-{AUTOBAHN_VERSION}"


@pytest.fixture(scope="module")
def autobahn() -> tuple[str, Path]:
    """(Python 2.7, the directory autobahntestsuite is installed in), installed once."""
    python = _python27()
    if python is None:
        _skip_or_fail(
            "the Autobahn test suite needs Python 2.7 (pyenv's, python2.7 on the PATH, or "
            "AUTOBAHN_PYTHON): none found",
            installable=False,
        )
    target = _cache_dir()
    if not (target / "autobahntestsuite" / "wstest.py").exists():
        partial = target.with_name(f"{target.name}.partial-{os.getpid()}")
        shutil.rmtree(partial, ignore_errors=True)
        partial.parent.mkdir(parents=True, exist_ok=True)
        command = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        command += ["--no-warn-script-location", "--target", str(partial)]
        command += [f"autobahntestsuite=={AUTOBAHN_VERSION}"]
        try:
            installed = subprocess.run(
                command, env=_python27_env(), capture_output=True, text=True, timeout=1500
            )
        except subprocess.TimeoutExpired:
            installed = None
        if installed is None or installed.returncode != 0:
            shutil.rmtree(partial, ignore_errors=True)
            detail = installed.stderr[-2000:] if installed is not None else "timed out"
            _skip_or_fail(f"autobahntestsuite=={AUTOBAHN_VERSION} did not install: {detail}")
        shutil.rmtree(target, ignore_errors=True)
        partial.rename(target)
    return python, target


def _verdicts(report: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Case id → (behaviour, closing behaviour) from Autobahn's ``index.json``."""
    ((_agent, cases),) = report.items()
    return {case: (result["behavior"], result["behaviorClose"]) for case, result in cases.items()}


@pytest.mark.timeout(1800)
def test_autobahn_fuzzing_client_cases_1_to_7(
    server: tuple[str, int], autobahn: tuple[str, Path], tmp_path: Path
) -> None:
    implementation, port = server
    python, installed = autobahn
    agent = f"uvicorn-{SHORT.get(implementation, implementation)}"
    spec = {
        "outdir": str(tmp_path / "reports"),
        "servers": [
            {
                "agent": agent,
                "url": f"ws://127.0.0.1:{port}/{ECHO_PATH}",
                "origin": f"http://127.0.0.1:{port}",
            }
        ],
        "cases": [f"{chapter}.*" for chapter in range(1, 8)],
        "exclude-cases": [],
        "exclude-agent-cases": {},
    }
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    command = [python, "-c", WSTEST, str(installed), "-m", "fuzzingclient"]
    command += ["-s", str(tmp_path / "spec.json")]
    run = subprocess.run(
        command, cwd=tmp_path, env=_python27_env(), capture_output=True, text=True, timeout=900
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    verdicts = _verdicts(json.loads((tmp_path / "reports" / "index.json").read_text()))
    counts = collections.Counter(behaviour for behaviour, _close in verdicts.values())
    sys.stdout.write(f"\nAutobahn 1-7, {agent}: {len(verdicts)} cases, {dict(counts)}\n")
    assert {case.split(".")[0] for case in verdicts} == {str(n) for n in range(1, 8)}
    assert len(verdicts) == AUTOBAHN_CASES
    failed = {
        case: verdict
        for case, verdict in sorted(verdicts.items())
        if verdict[0] not in PASSING or verdict[1] not in PASSING
    }
    known = KNOWN_FAILURES.get(implementation, {})
    assert set(failed) == set(known), f"{agent}: cases not passed {failed}, known {known}"
