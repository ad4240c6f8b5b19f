"""channels-redis' ``group_send`` then ``receive``, one after another on an idle event loop:
what one message costs each chain of the fan-out (README.md). Needs Redis on 6379 (db 9)."""

import asyncio
import time

from channels_redis.core import RedisChannelLayer

COUNT = 2000


async def main() -> None:
    layer = RedisChannelLayer(hosts=["redis://127.0.0.1:6379/9"], capacity=100_000)
    channel = await layer.new_channel()
    await layer.group_add("g", channel)
    start = time.perf_counter()
    for n in range(COUNT):
        await layer.group_send("g", {"type": "x", "n": n})
    sent = time.perf_counter()
    for _ in range(COUNT):
        await layer.receive(channel)
    received = time.perf_counter()
    print(
        f"group_send {COUNT / (sent - start):.0f}/s ({(sent - start) / COUNT * 1000:.2f} ms "
        f"each); receive {COUNT / (received - sent):.0f}/s "
        f"({(received - sent) / COUNT * 1000:.2f} ms each)"
    )
    await layer.flush()


asyncio.run(main())
