"""A fake ClamAV daemon on 127.0.0.1 (or a unix socket) that checks the INSTREAM framing.

It reads ``zINSTREAM\\0``, then length-prefixed chunks up to a zero length, records the
chunk sizes, and answers ``stream: Eicar-Signature FOUND`` when the stream holds the EICAR
test string, ``stream: OK`` otherwise; past ``max_length`` it answers clamd's ``INSTREAM
size limit exceeded. ERROR`` and closes, as clamd does; ``silent`` never answers. A
malformed stream fails the test through :attr:`errors`.
"""

from __future__ import annotations

import socket
import socketserver
import struct
import threading
from pathlib import Path

# The EICAR antivirus test file, built from pieces so that this source file is not
# itself flagged by a scanner on a developer's machine.
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-" + b"TEST-FILE!$H+H*"


class FakeClamd:
    def __init__(self, *, unix_path: Path | None = None, max_length: int = 10**9) -> None:
        self.chunks: list[list[int]] = []
        self.errors: list[str] = []
        self.max_length = max_length
        self.silent = False
        fake = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                fake.serve(self.request)

        server_class: type[socketserver.BaseServer]
        if unix_path is None:
            server_class = socketserver.ThreadingTCPServer
            self.server = server_class(("127.0.0.1", 0), Handler)
            self.address = f"127.0.0.1:{self.server.server_address[1]}"
        else:
            server_class = socketserver.ThreadingUnixStreamServer
            self.server = server_class(str(unix_path), Handler)
            self.address = f"unix:{unix_path}"
        self.server.daemon_threads = True  # type: ignore[attr-defined]
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def __enter__(self) -> FakeClamd:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def serve(self, sock: socket.socket) -> None:
        command = b""
        while not command.endswith(b"\0"):
            data = sock.recv(1)
            if not data:
                return
            command += data
        if command != b"zINSTREAM\0":
            self.errors.append(f"unexpected command {command!r}")
            sock.sendall(b"UNKNOWN COMMAND\0")
            return
        sizes: list[int] = []
        self.chunks.append(sizes)
        stream = b""
        while True:
            size = struct.unpack("!L", self._exactly(sock, 4))[0]
            if size == 0:
                break
            sizes.append(size)
            stream += self._exactly(sock, size)
            if len(stream) > self.max_length:
                sock.sendall(b"INSTREAM size limit exceeded. ERROR\0")
                return
        if self.silent:
            sock.recv(1)  # until the client gives up
            return
        found = EICAR in stream
        sock.sendall(b"stream: Eicar-Signature FOUND\0" if found else b"stream: OK\0")

    def _exactly(self, sock: socket.socket, count: int) -> bytes:
        data = b""
        while len(data) < count:
            more = sock.recv(count - len(data))
            if not more:
                self.errors.append("the stream ended inside a chunk")
                raise ConnectionError("short read")
            data += more
        return data
