"""The browser client: valid JavaScript, no HTML injection, the hooks of docs/frontend.md.

Behaviour in a browser is covered by the browser tests; these checks run everywhere.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.template.loader import render_to_string

ROOT = Path(__file__).resolve().parent.parent
CHAT_JS = ROOT / "src/smartcampus_chat/static/smartcampus_chat/js/chat.js"
SOURCE = CHAT_JS.read_text()


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node for a syntax check")
def test_chat_js_parses() -> None:
    subprocess.run(["node", "--check", str(CHAT_JS)], check=True)


@pytest.mark.parametrize(
    "sink", ["innerHTML", "outerHTML", "insertAdjacentHTML", "eval(", "document.write"]
)
def test_chat_js_never_injects_html(sink: str) -> None:
    assert sink not in SOURCE


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
