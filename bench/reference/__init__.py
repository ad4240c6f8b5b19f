"""Reference servers of the benchmark suite, NOT part of the app.

They bracket the app's figures: ``bare_ws`` is the ceiling (a bare asyncio ``websockets``
server), ``stock_channels`` is the stock Channels tutorial consumer the app is built on.
"""
