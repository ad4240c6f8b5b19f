"""A local Web Push service on 127.0.0.1 and browsers that subscribe to it, for the tests.

The service takes what a real one (FCM, Mozilla's autopush) takes: a POST to the
subscription's endpoint with an ``aes128gcm`` body, ``TTL``, ``Urgency`` and a VAPID
``Authorization`` header. It keeps each request as it came and answers the status set for
the endpoint (201 by default). :class:`Browser` is the browser's side: its own P-256 key
pair and auth secret, as ``PushManager.subscribe()`` makes them, and it decrypts and
verifies what the server sent (RFC 8291, RFC 8292) with independent code: ``http_ece`` and
``cryptography``, not the sender's ``pywebpush``.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Received:
    """One POST the push service got."""

    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class PushService:
    """The HTTP server, its requests and the status each endpoint path answers."""

    server: ThreadingHTTPServer
    received: list[Received] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    #: Where to redirect a path (its status then is the redirect's, e.g. 307).
    locations: dict[str, str] = field(default_factory=dict)
    #: Seconds a path waits before it answers.
    delays: dict[str, float] = field(default_factory=dict)

    @property
    def origin(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def endpoint(self, name: str) -> str:
        return f"{self.origin}/push/{name}"

    def answer(
        self, name: str, status: int = 201, location: str | None = None, delay: float = 0
    ) -> None:
        self.statuses[f"/push/{name}"] = status
        self.delays[f"/push/{name}"] = delay
        if location is not None:
            self.locations[f"/push/{name}"] = location

    def to(self, name: str) -> list[Received]:
        return [r for r in self.received if r.path == f"/push/{name}"]


def start_push_service() -> PushService:
    service: PushService

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            service.received.append(
                Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            )
            time.sleep(service.delays.get(self.path, 0))
            status = service.statuses.get(self.path, 201)
            self.send_response(status)
            if self.path in service.locations:
                self.send_header("Location", service.locations[self.path])
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    service = PushService(server)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return service


@dataclass
class Browser:
    """A browser's push subscription keys (made here, as a browser makes them)."""

    endpoint: str
    private_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth_secret: bytes = field(default_factory=lambda: os.urandom(16))

    @property
    def p256dh(self) -> str:
        return b64url(
            self.private_key.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        )

    @property
    def auth(self) -> str:
        return b64url(self.auth_secret)

    def subscription_json(self) -> dict[str, Any]:
        """What ``PushSubscription.toJSON()`` gives the page."""
        return {
            "endpoint": self.endpoint,
            "expirationTime": None,
            "keys": {"p256dh": self.p256dh, "auth": self.auth},
        }

    def decrypt(self, received: Received) -> dict[str, Any]:
        """The JSON payload of a push message (RFC 8291: aes128gcm with this browser's
        private key and auth secret)."""
        assert received.headers["content-encoding"] == "aes128gcm"
        plain = http_ece.decrypt(
            received.body,
            private_key=self.private_key,
            auth_secret=self.auth_secret,
            version="aes128gcm",
        )
        decoded: dict[str, Any] = json.loads(plain)
        return decoded


def verify_vapid(received: Received, *, public_key: str, origin: str, subject: str) -> None:
    """Check the ``Authorization: vapid t=<JWT>,k=<key>`` header as a push service does
    (RFC 8292): the key is the site's, the JWT is ES256-signed by it, for this origin,
    not expired and at most 24 hours ahead, with the site's contact."""
    scheme, _, params = received.headers["authorization"].partition(" ")
    assert scheme.lower() == "vapid"
    parts = dict(param.strip().split("=", 1) for param in params.split(","))
    assert parts["k"] == public_key
    header_b64, claims_b64, signature_b64 = parts["t"].split(".")
    assert json.loads(unb64url(header_b64))["alg"] == "ES256"
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(parts["k"]))
    signature = unb64url(signature_b64)
    assert len(signature) == 64
    der = encode_dss_signature(
        int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    )
    try:
        key.verify(der, f"{header_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as exc:
        raise AssertionError("the VAPID JWT is not signed by the site's key") from exc
    claims = json.loads(unb64url(claims_b64))
    assert claims["aud"] == origin
    assert claims["sub"] == subject
    assert time.time() < claims["exp"] <= time.time() + 24 * 3600
