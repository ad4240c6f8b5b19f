"""Short-lived, single-use WebSocket tickets for clients without the site's session cookie.

A client authenticated over HTTP (session or token) asks the API for a ticket, then opens
``ws/...?ticket=<ticket>``. The ticket names the user and a random nonce, is signed with
``SECRET_KEY`` and expires after ``TICKET_MAX_AGE`` seconds; no long-lived secret ever goes
into a URL.

Why single-use and bound: a ticket ends up in URLs, proxy logs and browser histories. One
copy must not open a second socket, and it must stop working with the credential it was
issued for (a logout, a deleted API token).

- **Single use** across processes: redeeming adds the key ``<prefix>:used:<nonce>`` to
  Django's cache with ``cache.add`` (atomic: ``SET NX`` on Redis), for ``TICKET_MAX_AGE``
  seconds, after which the signature refuses the ticket anyway. With the default
  per-process ``LocMemCache`` a ticket is single-use per process only: configure a shared
  cache in production, as for the rate limits (docs/deployment.md).
- **Bound** to its credential: the ticket view (:func:`issue_ticket` with ``credential``)
  keeps the issuing session key or token reference *server-side*, in the cache under
  ``<prefix>:cred:<nonce>``; the ticket only says that it is bound (``"b": 1``). Redeeming
  checks that the credential still exists and still belongs to the user, and the socket
  keeps the reference in its scope (:data:`SCOPE_SESSION`, :data:`SCOPE_TOKEN`) so that
  ``handshakes.credential_holds`` (the sockets' periodic re-check) ends it when the
  session or token ends. A bound ticket whose credential entry cannot be found (the cache
  was flushed, or a per-process cache on another process) is refused: fail closed.
- A cache that cannot be reached raises :class:`~.exceptions.ServiceUnavailable`: the
  socket is refused with the ``unavailable`` error, never let in unchecked.

:func:`issue_ticket` without a credential (host code, tests) makes an unbound ticket, still
single-use.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import SESSION_KEY, get_user_model
from django.core import signing
from django.core.cache import cache
from django.db import models

from smartcampus_chat.conf import app_settings
from smartcampus_chat.domain.credentials import load_sessions, session_holds, token_alive
from smartcampus_chat.exceptions import ServiceUnavailable
from smartcampus_chat.infra.outages import is_unavailable

_SALT = "smartcampus_chat.ws-ticket"
_PREFIX = "smartcampus_chat:ticket"

#: Scope keys of a socket opened with a bound ticket: the issuing session's key, or the
#: issuing token as ``("app_label.model", pk)``. Server-side only, never sent anywhere.
SCOPE_SESSION = "scchat_ticket_session"
SCOPE_TOKEN = "scchat_ticket_token"


@dataclass(frozen=True)
class Credential:
    """What a ticket is bound to: a session key or a token model row (one of the two)."""

    session_key: str | None = None
    token: tuple[str, Any] | None = None


@dataclass(frozen=True)
class Redeemed:
    """A ticket that was valid and is now used up."""

    user_id: Any
    credential: Credential | None


def _cache_call(call: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return call(*args, **kwargs)
    except Exception as exc:
        if is_unavailable(exc):
            raise ServiceUnavailable() from exc
        raise


def credential_of(request: Any) -> Credential | None:
    """The credential an authenticated API request came with: its token when the
    authentication class gave a model instance as ``request.auth`` (DRF's ``Token``),
    else its session when the session is logged in as the same user; None for others
    (such tickets are single-use but outlive the request's credential)."""
    auth = getattr(request, "auth", None)
    if isinstance(auth, models.Model) and auth.pk is not None:
        return Credential(token=(auth._meta.label_lower, auth.pk))
    session = getattr(request, "session", None)
    user = getattr(request, "user", None)
    key = getattr(session, "session_key", None)
    logged_in = session is not None and str(session.get(SESSION_KEY)) == str(
        getattr(user, "pk", None)
    )
    return Credential(session_key=key) if key and logged_in else None


def issue_ticket(user: Any, credential: Credential | None = None) -> str:
    """A signed ticket for ``user``; bound to ``credential`` when one is given (the cache
    must then be reachable: :class:`~.exceptions.ServiceUnavailable` otherwise)."""
    nonce = secrets.token_urlsafe(16)
    payload: dict[str, Any] = {"u": user.pk, "n": nonce}
    if credential is not None:
        stored = {"s": credential.session_key, "t": credential.token}
        _cache_call(cache.set, f"{_PREFIX}:cred:{nonce}", stored, app_settings.TICKET_MAX_AGE + 1)
        payload["b"] = 1
    return signing.dumps(payload, salt=_SALT, compress=False)


def _payload(ticket: str) -> dict[str, Any] | None:
    try:
        data = signing.loads(ticket, salt=_SALT, max_age=app_settings.TICKET_MAX_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("n"), str):
        return None
    return data


def ticket_user_id(ticket: str) -> Any | None:
    """The user id a valid, unexpired ticket names (not redeemed, not checked further)."""
    data = _payload(ticket)
    return None if data is None else data.get("u")


def redeem(ticket: str) -> Redeemed | None:
    """Use ``ticket`` up: its user and credential if it was valid, unexpired, unused and
    its credential still exists; None otherwise. Raises ServiceUnavailable when the cache
    cannot be reached."""
    data = _payload(ticket)
    if data is None:
        return None
    nonce = data["n"]
    timeout = app_settings.TICKET_MAX_AGE + 1
    if not _cache_call(cache.add, f"{_PREFIX}:used:{nonce}", 1, timeout):
        return None  # Already used (by this process or another one).
    credential: Credential | None = None
    if data.get("b"):
        stored = _cache_call(cache.get, f"{_PREFIX}:cred:{nonce}")
        if not isinstance(stored, dict):
            return None
        _cache_call(cache.delete, f"{_PREFIX}:cred:{nonce}")
        token = stored.get("t")
        credential = Credential(session_key=stored.get("s"), token=tuple(token) if token else None)
        if not _alive(data.get("u"), credential):
            return None
    return Redeemed(data.get("u"), credential)


def _session_alive(user_id: Any, session_key: str) -> bool:
    user = get_user_model()._default_manager.filter(pk=user_id).first()
    return user is not None and session_holds(user, load_sessions([session_key]).get(session_key))


def _alive(user_id: Any, credential: Credential) -> bool:
    if credential.session_key is not None:
        return _session_alive(user_id, credential.session_key)
    if credential.token is not None:
        return token_alive(user_id, credential.token)
    return False


def scope_entries(credential: Credential | None) -> dict[str, Any]:
    """What a socket opened with a ticket bound to ``credential`` keeps in its scope."""
    if credential is None:
        return {}
    if credential.session_key is not None:
        return {SCOPE_SESSION: credential.session_key}
    return {SCOPE_TOKEN: credential.token}


def user_for_ticket(ticket: str) -> Any | None:
    """The active user a valid, unexpired ticket names; None for anything else (does not
    use the ticket up)."""
    user_id = ticket_user_id(ticket)
    if user_id is None:
        return None
    return get_user_model()._default_manager.filter(pk=user_id, is_active=True).first()
