import asyncio, time
from channels_redis.core import RedisChannelLayer
async def main():
    layer = RedisChannelLayer(hosts=["redis://127.0.0.1:6379/9"], capacity=100000)
    ch = await layer.new_channel()
    await layer.group_add("g", ch)
    N=2000
    t=time.perf_counter()
    for i in range(N): await layer.group_send("g", {"type":"x","i":i})
    t1=time.perf_counter()
    for i in range(N): await layer.receive(ch)
    t2=time.perf_counter()
    print(f"group_send {N/(t1-t):.0f}/s ({(t1-t)/N*1000:.2f} ms each); receive {N/(t2-t1):.0f}/s ({(t2-t1)/N*1000:.2f} ms each)")
    await layer.flush()
asyncio.run(main())
