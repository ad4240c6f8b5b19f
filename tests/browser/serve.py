"""Serve the example site with uvicorn on a listening socket inherited from the parent.

``python -m tests.browser.serve <fd>``: the ``LiveServer`` binds the port once and keeps the
socket for its whole life, so a restart cannot lose the port to another process, and a
client that reconnects while the server is down waits in the socket's backlog and is
answered as soon as the next process is up, instead of being refused and backing off.
(``uvicorn --fd`` would read the socket as a Unix one.)
"""

from __future__ import annotations

import socket
import sys

import uvicorn

from tests.servers import CHAT_MAX_FRAME_BYTES


def main(fd: int) -> None:
    listener = socket.socket(fileno=fd)  # family and type are read from the socket
    config = uvicorn.Config(
        "campus.asgi:application",
        lifespan="off",
        log_level="warning",
        timeout_graceful_shutdown=2,
        # As every command the project ships: the example site's frame limit.
        ws_max_size=CHAT_MAX_FRAME_BYTES,
    )
    uvicorn.Server(config).run(sockets=[listener])


if __name__ == "__main__":
    main(int(sys.argv[1]))
