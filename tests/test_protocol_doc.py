"""docs/protocol.md documents exactly the frames of the registry, each in its direction."""

from __future__ import annotations

import re
from pathlib import Path

from smartcampus_chat.protocol.frames import CLIENT_FRAMES, server_frame_types
from smartcampus_chat.protocol.registry import Direction, specs

DOC = (Path(__file__).resolve().parent.parent / "docs" / "protocol.md").read_text()
DOCUMENTED = set(re.findall(r"^\| `([a-z_.]+)` \|", DOC, re.M))
#: The page's section of each direction, whose table lists that direction's frames.
SECTIONS = {Direction.CLIENT: "## Client → server", Direction.SERVER: "## Server → client"}


def documented(direction: Direction) -> list[str]:
    """The frame types of the table in the section of ``direction``, in order."""
    section = DOC.split(SECTIONS[direction], 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([a-z_.]+)` \|", section, re.M)


def test_every_server_frame_is_documented() -> None:
    assert server_frame_types() <= DOCUMENTED, server_frame_types() - DOCUMENTED


def test_every_client_frame_is_documented() -> None:
    assert set(CLIENT_FRAMES) <= DOCUMENTED, set(CLIENT_FRAMES) - DOCUMENTED


def test_each_direction_documents_exactly_the_registry_types_once() -> None:
    for direction in Direction:
        listed = documented(direction)
        assert len(listed) == len(set(listed)), listed
        assert set(listed) == {s.type for s in specs(direction)}, direction


def test_every_close_code_is_documented() -> None:
    from smartcampus_chat.ws import consumer as consumers

    codes = {value for name, value in vars(consumers).items() if name.startswith("CLOSE_")}
    assert codes <= {int(c) for c in re.findall(r"^\| (\d{4}) \|", DOC, re.M)}
