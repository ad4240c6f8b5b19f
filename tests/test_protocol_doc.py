"""docs/protocol.md documents every frame of the schema."""

from __future__ import annotations

import re
from pathlib import Path

from smartcampus_chat.protocol.frames import CLIENT_FRAMES, server_frame_types

DOC = (Path(__file__).resolve().parent.parent / "docs" / "protocol.md").read_text()
DOCUMENTED = set(re.findall(r"^\| `([a-z.]+)` \|", DOC, re.M))


def test_every_server_frame_is_documented() -> None:
    assert server_frame_types() <= DOCUMENTED, server_frame_types() - DOCUMENTED


def test_every_client_frame_is_documented() -> None:
    assert set(CLIENT_FRAMES) <= DOCUMENTED, set(CLIENT_FRAMES) - DOCUMENTED


def test_every_close_code_is_documented() -> None:
    from smartcampus_chat.ws import consumer as consumers

    codes = {value for name, value in vars(consumers).items() if name.startswith("CLOSE_")}
    assert codes <= {int(c) for c in re.findall(r"^\| (\d{4}) \|", DOC, re.M)}
