"""The WebSocket origin check: scheme, host and port, as Django's CSRF check compares them.

Why not Channels' ``AllowedHostsOriginValidator``: it compares only the Origin's host with
``ALLOWED_HOSTS`` and ignores scheme and port, so a page served by anything else on the
campus host (``http://campus.example:8080``, ``file://``, a plain-HTTP page of an HTTPS
site) can open sockets with the user's cookie: cross-site WebSocket hijacking.

:class:`TrustedOriginValidator` accepts a handshake whose ``Origin`` is

- the socket's own origin: the scheme of the connection (``ws`` → ``http``, ``wss`` →
  ``https``, or ``https`` when ``SECURE_PROXY_SSL_HEADER`` says so) with the ``Host`` header
  (``X-Forwarded-Host`` when ``USE_X_FORWARDED_HOST``), the host being one of
  ``ALLOWED_HOSTS``, as ``request.get_host()`` validates it; or
- one of ``CSRF_TRUSTED_ORIGINS``, including Django's ``https://*.example.edu`` form
  (any subdomain, same scheme and port),

comparing scheme, host and port (a missing port is the scheme's default). Everything else
is refused before the consumer runs (HTTP 403), as are ``null``, opaque and malformed
origins and several ``Origin`` headers.

A handshake without ``Origin`` is not from a browser (browsers always send it on
WebSocket handshakes). It is accepted only when it cannot ride on a browser's cookie: it
carries a ``?ticket=`` and no session cookie (mobile apps, scripts). Without a ticket, or
with the session cookie, it is refused.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.cookie import parse_cookie
from django.http.request import split_domain_port, validate_host
from django.utils.http import is_same_domain

__all__ = ["TrustedOriginValidator", "origin_allowed"]

_DEFAULT_PORTS = {"http": 80, "https": 443}

#: (scheme, host, port) of an origin; host lower-case, IPv6 in brackets.
Origin = tuple[str, str, int]


def _parse_origin(text: str) -> Origin | None:
    """``scheme://host[:port]`` as a tuple; None for anything that is not such an origin."""
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = parts.hostname
    if (
        scheme not in _DEFAULT_PORTS
        or not host
        or parts.username is not None
        or parts.password is not None
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
    ):
        return None
    host = f"[{host}]" if ":" in host else host
    return scheme, host.lower(), port if port is not None else _DEFAULT_PORTS[scheme]


def _headers(scope: dict[str, Any], name: bytes) -> list[str]:
    return [value.decode("latin-1") for key, value in scope.get("headers", ()) if key == name]


def _meta_header(scope: dict[str, Any], meta_name: str) -> str | None:
    """The header Django reads as ``request.META[meta_name]`` (``HTTP_X_FORWARDED_PROTO``)."""
    if not meta_name.startswith("HTTP_"):
        return None
    values = _headers(scope, meta_name[5:].lower().replace("_", "-").encode("latin-1"))
    return ",".join(values) if values else None


def _is_secure(scope: dict[str, Any]) -> bool:
    """``request.is_secure()`` for the handshake (the proxy's header wins when set)."""
    proxy = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if proxy:
        header, secure_value = proxy
        value = _meta_header(scope, header)
        if value is not None:
            return value.split(",", 1)[0].strip() == secure_value
    return scope.get("scheme") in ("wss", "https")


def _allowed_hosts() -> list[str]:
    hosts = list(settings.ALLOWED_HOSTS)
    if settings.DEBUG and not hosts:  # As Django's request.get_host().
        hosts = [".localhost", "127.0.0.1", "[::1]"]
    return hosts


def own_origin(scope: dict[str, Any]) -> Origin | None:
    """The origin the handshake was addressed to; None when its host is not allowed."""
    host = None
    if getattr(settings, "USE_X_FORWARDED_HOST", False):
        host = _meta_header(scope, "HTTP_X_FORWARDED_HOST")
    if host is None:
        values = _headers(scope, b"host")
        host = values[-1] if len(values) == 1 else None
    if not host:
        return None
    domain, _port = split_domain_port(host)
    if not domain or not validate_host(domain, _allowed_hosts()):
        return None
    return _parse_origin(f"{'https' if _is_secure(scope) else 'http'}://{host}")


def _netloc(origin: Origin) -> str:
    scheme, host, port = origin
    return host if port == _DEFAULT_PORTS[scheme] else f"{host}:{port}"


def _trusted(origin: Origin) -> bool:
    """``origin`` is one of ``CSRF_TRUSTED_ORIGINS`` (exact, or ``scheme://*.domain``)."""
    for entry in getattr(settings, "CSRF_TRUSTED_ORIGINS", ()):
        entry = str(entry)
        if "*" in entry:
            scheme, _, rest = entry.partition("://")
            pattern = _parse_origin(f"{scheme}://{rest.lstrip('*').lstrip('.')}")
            if pattern is None or pattern[0] != origin[0] or pattern[2] != origin[2]:
                continue
            if is_same_domain(origin[1], f".{pattern[1]}"):
                return True
        elif _parse_origin(entry) == origin:
            return True
    return False


def _has_session_cookie(scope: dict[str, Any]) -> bool:
    return any(
        settings.SESSION_COOKIE_NAME in parse_cookie(value) for value in _headers(scope, b"cookie")
    )


def _has_ticket(scope: dict[str, Any]) -> bool:
    raw = scope.get("query_string", b"")
    text = raw.decode("latin-1") if isinstance(raw, bytes) else str(raw)
    return bool(parse_qs(text).get("ticket"))


def origin_allowed(scope: dict[str, Any]) -> bool:
    """Whether a WebSocket handshake may go on (see the module's docstring)."""
    origins = _headers(scope, b"origin")
    if not origins:
        return _has_ticket(scope) and not _has_session_cookie(scope)
    if len(origins) > 1:
        return False
    origin = _parse_origin(origins[0])
    if origin is None:
        return False
    return origin == own_origin(scope) or _trusted(origin)


class TrustedOriginValidator:
    """ASGI middleware for the host's ``websocket`` route: refuses (HTTP 403) handshakes
    whose Origin is not the site's own or one of ``CSRF_TRUSTED_ORIGINS``.

    ``TrustedOriginValidator(URLRouter(websocket_urlpatterns))``
    """

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: Any, receive: Any, send: Any) -> Any:
        if scope.get("type") == "websocket" and not origin_allowed(scope):
            return await WebsocketDenier()(scope, receive, send)
        return await self.application(scope, receive, send)
