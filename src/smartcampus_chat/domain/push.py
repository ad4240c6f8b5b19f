"""Web Push rules (docs/notifications.md, "Web Push"): is push on for the site, which
endpoints the server may POST to, and what a browser's subscription keys must look like.

A subscription's endpoint is a URL the browser (so, anyone with an account) chooses: the
server will POST to it. Left open, that is server-side request forgery (the cloud metadata
service, an admin page on localhost, the campus network). The rule is an allow-list of
push services (``WEB_PUSH_ALLOWED_HOSTS``): https on port 443 to one of them, and nothing
else. The one exception is for tests and development: an IP literal of this machine
(``127.0.0.1``, ``::1``) listed there allows http and any port on that address only, so a
site that never lists a loopback address can never be made to POST to itself.

The same rule runs when a subscription is stored and again before each delivery (the
settings may have changed since).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from smartcampus_chat.conf import app_settings

#: The longest endpoint stored (the column's size).
MAX_ENDPOINT_LENGTH = 2048
#: How many browsers a person may subscribe; a new one beyond drops the oldest.
MAX_SUBSCRIPTIONS_PER_USER = 20

# NIST P-256: y^2 = x^3 - 3x + b (mod p). A browser's key must be a point of the curve.
_P = 2**256 - 2**224 + 2**192 + 2**96 - 1
_B = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+={0,2}", re.ASCII)


def site_push_enabled() -> bool:
    """Whether the site sends Web Push at all: notifications and push on, both VAPID keys
    and a contact (``WEB_PUSH_SUBJECT``) configured."""
    return bool(
        app_settings.NOTIFICATIONS
        and app_settings.NOTIFY_PUSH
        and app_settings.WEB_PUSH_VAPID_PUBLIC_KEY
        and app_settings.WEB_PUSH_VAPID_PRIVATE_KEY
        and app_settings.WEB_PUSH_SUBJECT
    )


def endpoint_hash(endpoint: str) -> str:
    """A subscription's unique key: SHA-256 of its endpoint, hex (the column is indexed)."""
    return hashlib.sha256(endpoint.encode()).hexdigest()


class EndpointRefused(ValueError):
    """An endpoint the server will not POST to; ``reason`` says why (for logs)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _is_loopback_literal(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _host_allowed(host: str, allowed: Iterable[str]) -> bool:
    for entry in allowed:
        entry = entry.strip().lower().strip("[]").rstrip(".")
        if entry.startswith("*."):
            if host.endswith(entry[1:]) and len(host) > len(entry) - 1:
                return True
        elif host == entry:
            return True
    return False


def check_endpoint(endpoint: str, allowed: Iterable[str] | None = None) -> str:
    """``endpoint`` if the server may POST to it (module docstring), else
    :class:`EndpointRefused`. ``allowed``: ``WEB_PUSH_ALLOWED_HOSTS`` when None."""
    if not isinstance(endpoint, str) or not endpoint:
        raise EndpointRefused("no endpoint")
    if len(endpoint) > MAX_ENDPOINT_LENGTH:
        raise EndpointRefused("too long")
    if any(c in endpoint for c in "\r\n\t\\ \x00") or not endpoint.isascii():
        raise EndpointRefused("not a plain URL")
    try:
        parts = urlsplit(endpoint)
        port = parts.port
    except ValueError as exc:
        raise EndpointRefused("not a URL") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise EndpointRefused("not https")
    if parts.username is not None or parts.password is not None:
        raise EndpointRefused("credentials in the URL")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise EndpointRefused("no host")
    hosts = app_settings.WEB_PUSH_ALLOWED_HOSTS if allowed is None else allowed
    if not _host_allowed(host, hosts):
        raise EndpointRefused(f"host {host} is not a known push service")
    if _is_loopback_literal(host):
        return endpoint
    if scheme != "https":
        raise EndpointRefused("not https")
    if port not in (None, 443):
        raise EndpointRefused(f"port {port}")
    return endpoint


@dataclass(frozen=True)
class PushKeys:
    """A browser's subscription keys, as sent (base64url) and checked."""

    p256dh: str
    auth: str


class BadKey(ValueError):
    """A subscription key of the wrong shape; ``field`` is ``p256dh`` or ``auth``."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def _b64url_decode(field: str, value: str, max_length: int) -> bytes:
    if not isinstance(value, str) or not value or len(value) > max_length:
        raise BadKey(field, "missing or too long")
    if not _BASE64URL.fullmatch(value):
        raise BadKey(field, "not base64url")
    stripped = value.rstrip("=")
    try:
        return base64.urlsafe_b64decode(stripped + "=" * (-len(stripped) % 4))
    except (binascii.Error, ValueError) as exc:
        raise BadKey(field, "not base64url") from exc


def is_p256_point(raw: bytes) -> bool:
    """Whether ``raw`` is an uncompressed point of P-256 (``0x04 || x || y``) on the curve."""
    if len(raw) != 65 or raw[0] != 4:
        return False
    x = int.from_bytes(raw[1:33], "big")
    y = int.from_bytes(raw[33:], "big")
    if x >= _P or y >= _P:
        return False
    return (y * y - (x * x * x - 3 * x + _B)) % _P == 0


def check_keys(p256dh: str, auth: str) -> PushKeys:
    """The keys if ``p256dh`` is a P-256 public key (65 bytes, uncompressed, on the curve)
    and ``auth`` a 16-byte secret, both base64url; else :class:`BadKey`. The lengths
    bound what is stored (the columns hold 128 and 64 characters)."""
    if not is_p256_point(_b64url_decode("p256dh", p256dh, 128)):
        raise BadKey("p256dh", "not a P-256 public key")
    if len(_b64url_decode("auth", auth, 64)) != 16:
        raise BadKey("auth", "not 16 bytes")
    return PushKeys(p256dh=p256dh.rstrip("="), auth=auth.rstrip("="))
