"""A fake Internet on 127.0.0.1 for the SSRF guard's tests: web servers, a DNS table and a
connector that routes public-looking addresses to them.

:class:`FakeNetwork` is what ``safe_get`` is given as its resolver and connector. Its DNS
table maps names to addresses (public-looking ones, or the private ones an attacker
would publish); its routes map a few *public* addresses to local servers. The connector
refuses (AssertionError) any address it has no route for, so a guard that let a private
address through fails the test instead of opening a connection, and no test can reach a
real address on the Internet.
"""

from __future__ import annotations

import io
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from smartcampus_chat.infra.safe_fetch import Network

#: Global unicast addresses (not TEST-NET, which the guard refuses) that only ever stand
#: for local servers here: the connector routes them to 127.0.0.1.
PUBLIC_A = "93.184.215.14"
PUBLIC_B = "151.101.1.69"
PUBLIC_V6 = "2606:2800:21f:cb07:6820:80da:af6b:8b2c"


@dataclass
class Reply:
    """What a route answers: status, headers, body; ``drip`` seconds between body bytes
    (a slow server); ``size`` bytes of filler instead of ``body`` (a huge one)."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "text/html"})
    body: bytes = b""
    drip: float = 0.0
    size: int = 0


Route = Callable[[str, str], Reply]  # (Host header, path) -> reply


class PageServer:
    """A threaded HTTP (or HTTPS, given a TLS context) server on 127.0.0.1 answering from
    ``pages`` by path, recording each request's Host header and path."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.pages: dict[str, Reply | Route] = {}
        self.requests: list[tuple[str, str]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                host = self.headers.get("Host", "")
                server.requests.append((host, self.path))
                page = server.pages.get(self.path.split("?")[0])
                reply = Reply(404, {}, b"") if page is None else page
                if callable(reply):
                    reply = reply(host, self.path)
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                with suppress(BrokenPipeError, ConnectionResetError, ssl.SSLError):
                    self._write_body(reply)

            def _write_body(self, reply: Reply) -> None:
                if reply.size:
                    block = b"x" * 65536
                    for start in range(0, reply.size, len(block)):
                        self.wfile.write(block[: reply.size - start])
                    return
                if not reply.drip:
                    self.wfile.write(reply.body)
                    return
                for byte in reply.body:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(reply.drip)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        if tls is not None:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def __enter__(self) -> PageServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class FakeNetwork:
    """A resolver and a connector for ``safe_get`` (module docstring)."""

    def __init__(self) -> None:
        self.dns: dict[str, list[str]] = {}
        self.routes: dict[tuple[str, int], int] = {}
        self.lookups: list[str] = []
        self.connections: list[tuple[str, int]] = []

    def add_site(self, name: str, server: PageServer, *, address: str = PUBLIC_A) -> None:
        """``name`` resolves to ``address``, whose ports 80 and 443 reach ``server``."""
        self.dns[name] = [address]
        self.routes[(address, 80)] = server.port
        self.routes[(address, 443)] = server.port

    def network(self, tls_context: ssl.SSLContext | None = None) -> Network:
        """This fake network as ``safe_get`` takes it."""
        return Network(self.resolve, self.connect, tls_context)

    def resolve(self, host: str, port: int) -> list[str]:
        self.lookups.append(host)
        if host not in self.dns:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return list(self.dns[host])

    def connect(self, address: str, port: int, timeout: float) -> socket.socket:
        local_port = self.routes.get((address, port))
        assert local_port is not None, f"the guard let a connection to {address}:{port} through"
        self.connections.append((address, port))
        return socket.create_connection(("127.0.0.1", local_port), timeout=timeout)


@dataclass
class TestCertificate:
    """A self-signed certificate for some names: the server's context, and a client context
    that trusts only it."""

    server: ssl.SSLContext
    client: ssl.SSLContext


@contextmanager
def certificate_for(names: list[str], directory: Path) -> Iterator[TestCertificate]:
    """A throwaway certificate made with the ``openssl`` command (the caller skips the
    test when it is absent)."""
    openssl = shutil.which("openssl")
    assert openssl is not None
    key, cert = directory / "key.pem", directory / "cert.pem"
    san = ",".join(f"DNS:{name}" for name in names)
    subprocess.run(
        [
            *(openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-keyout", str(key), "-out", str(cert), "-subj", f"/CN={names[0]}"),
            *("-addext", f"subjectAltName={san}"),
        ],
        check=True,
        capture_output=True,
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert, key)
    client = ssl.create_default_context(cafile=str(cert))
    yield TestCertificate(server, client)


#: A page with a preview and an image, as served by :func:`news_site`.
NEWS_PAGE = b"""<html><head><title>Lab</title>
<meta property="og:title" content="Robotics lab open day">
<meta property="og:description" content="Come &amp; see the robots.">
<meta property="og:site_name" content="Campus News">
<meta property="og:image" content="/lab.png">
</head></html>"""


def png(width: int, height: int) -> bytes:
    """A real PNG image of ``width`` x ``height``."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (20, 120, 200)).save(out, "PNG")
    return out.getvalue()


@contextmanager
def news_site() -> Iterator[tuple[PageServer, FakeNetwork]]:
    """``news.example`` (a public-looking address, served on 127.0.0.1) with
    :data:`NEWS_PAGE` at ``/`` and its 1200 x 800 image; ``intranet.example`` resolving to
    10.0.0.7, which nothing can reach."""
    with PageServer() as server:
        server.pages["/"] = Reply(body=NEWS_PAGE)
        server.pages["/lab.png"] = Reply(headers={"Content-Type": "image/png"}, body=png(1200, 800))
        network = FakeNetwork()
        network.add_site("news.example", server)
        network.dns["intranet.example"] = ["10.0.0.7"]
        yield server, network


#: Message ids handed to :func:`record_enqueue` (the ``LINK_PREVIEW_ENQUEUE`` of tests that
#: run the fetch themselves).
ENQUEUED: list[int] = []


def record_enqueue(message_id: int) -> None:
    ENQUEUED.append(message_id)
