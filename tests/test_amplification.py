"""Amplification probes of issue #14 with the default limits (docs/reliability.md).

One socket sends 10 ``resume`` frames from 0 in a room of 2,002 changes, without waiting;
another sends 300 ``read`` frames (seq 1..300) in a room of 300 messages. Each probe counts
what the server sent (frames, bytes) and the database writes it made (INSERT, UPDATE,
DELETE statements on the consumers' connection), prints them (``-s``) and checks them
against the limits: granted ≤ burst + rate x elapsed, whatever the machine's speed.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.db import connection
from django.utils import timezone

from smartcampus_chat import services
from smartcampus_chat.conf import DEFAULTS
from smartcampus_chat.models import ChatMessage, ChatRoom
from smartcampus_chat.testing import ChatCommunicator, open_room

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

db = database_sync_to_async
WRITES = ("INSERT", "UPDATE", "DELETE")


class WriteCounter:
    """Counts write statements on the connection of the thread it is installed on."""

    def __init__(self) -> None:
        self.writes = 0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if sql.lstrip().upper().startswith(WRITES):
            self.writes += 1
        return execute(sql, params, many, context)


def _fill(room: ChatRoom, sender: Any, count: int) -> None:
    now = timezone.now()
    ChatMessage.objects.bulk_create(
        ChatMessage(
            room=room, sender=sender, content=f"message {n} " + "x" * 400, seq=n, event_seq=n
        )
        for n in range(1, count + 1)
    )
    ChatRoom.objects.filter(pk=room.pk).update(
        last_seq=count, last_event_seq=count, last_message_at=now
    )


async def _install() -> WriteCounter:
    counter = WriteCounter()

    def install() -> None:
        connection.execute_wrappers.append(counter)

    await db(install)()
    return counter


async def _uninstall(counter: WriteCounter) -> None:
    await db(lambda: connection.execute_wrappers.remove(counter))()


async def _drain(
    client: ChatCommunicator, answers: int, kinds: tuple[str, ...]
) -> tuple[Counter[str], int]:
    """Read until ``answers`` frames of ``kinds`` came, then what follows within 0.5 s:
    the frames by type, and their bytes."""
    types: Counter[str] = Counter()
    size = 0
    while sum(types[kind] for kind in kinds) < answers or not await client.receive_nothing(0.5):
        output = await client.receive_output(10)
        if output["type"] != "websocket.send":
            break
        types[json.loads(output["text"])["type"]] += 1
        size += len(output["text"].encode())
    return types, size


def _granted(burst: Any, rate: Any, elapsed: float) -> float:
    return float(burst) + float(rate) * elapsed


async def test_ten_resumes_from_zero(alice: Any, public_room: ChatRoom) -> None:
    await db(_fill)(public_room, alice, 2002)
    client = await open_room(alice, public_room.slug)
    counter = await _install()
    start = time.monotonic()
    for n in range(10):
        await client.send_frame(type="resume", event_seq=0, id=n)
    types, size = await _drain(client, 10, ("resumed", "error"))
    elapsed = time.monotonic() - start
    await _uninstall(counter)
    frames = sum(types.values())
    print(
        f"\n10 resumes from 0: {frames} frames, {size / 2**20:.1f} MiB, "
        f"{counter.writes} writes, {elapsed:.2f} s; {dict(types)}"
    )
    await client.disconnect()
    assert types["resumed"] + types["error"] == 10
    burst, rate = DEFAULTS.get("RESUME_RATE_BURST"), DEFAULTS.get("RESUME_RATE_PER_SECOND")
    assert burst is not None, "no resume limit"
    # A token per page of MAX_PAGE_SIZE changes; around them, per resume: participants
    # and resumed, or one error.
    pages = _granted(burst, rate, elapsed)
    assert types["message.new"] <= pages * DEFAULTS["MAX_PAGE_SIZE"]
    assert frames - types["message.new"] <= 2 * 10


async def test_three_hundred_reads(alice: Any, bob: Any, public_room: ChatRoom) -> None:
    await db(services.do_join_room)(bob, public_room)
    await db(_fill)(public_room, alice, 300)
    client = await open_room(bob, public_room.slug)
    counter = await _install()
    start = time.monotonic()
    for n in range(1, 301):
        await client.send_frame(type="read", seq=n, id=n)
    types, size = await _drain(client, 300, ("ack", "error"))
    elapsed = time.monotonic() - start
    await _uninstall(counter)
    print(
        f"\n300 reads: {sum(types.values())} frames, {size / 2**10:.1f} KiB, "
        f"{counter.writes} writes, {types['unread']} publishes, {elapsed:.2f} s; {dict(types)}"
    )
    await client.disconnect()
    assert types["ack"] + types["error"] == 300
    burst, rate = DEFAULTS.get("READ_RATE_BURST"), DEFAULTS.get("READ_RATE_PER_SECOND")
    assert burst is not None, "no read limit"
    # One UPDATE and one publish per granted read that moved the marker.
    granted = _granted(burst, rate, elapsed)
    assert counter.writes <= granted
    assert types["unread"] <= granted
