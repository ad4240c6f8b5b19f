import time
from typing import Any
import pytest
from smartcampus_chat.testing import open_room
from smartcampus_chat.services.batcher import get_batcher
from tests.test_socket_pipeline import _answers, _send_all
pytestmark = pytest.mark.django_db(transaction=True)

@pytest.mark.parametrize("depth", [64, 200, 64, 200])
async def test_rate(alice: Any, public_room: Any, no_rate_limits: Any, settings: Any, depth: int) -> None:
    settings.SMARTCAMPUS_CHAT = {**settings.SMARTCAMPUS_CHAT, "SEND_PIPELINE_DEPTH": depth}
    client = await open_room(alice, public_room.slug)
    await _send_all(client, 20, "w")
    await _answers(client, 20)
    b = get_batcher(); b0 = b.batches
    t = time.perf_counter()
    await _send_all(client, 2000, "m")
    await _answers(client, 2000, timeout=120)
    dt = time.perf_counter() - t
    print(f"\ndepth {depth}: 2000 in {dt:.2f}s: {2000/dt:.0f}/s, {b.batches-b0} batches")
    await client.disconnect()
