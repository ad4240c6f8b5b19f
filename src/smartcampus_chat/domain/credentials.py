"""Whether a socket's credential still holds: the one rule for sessions and API tokens.

A WebSocket outlives the request that opened it. A page request is signed in while its
session exists, has not expired, names the user and carries the auth hash of the user's
current password (:func:`django.contrib.auth.get_user`); a token request while its token
row exists. Sockets (``handshakes.credential_holds``) and tickets (``tickets.redeem``) are
judged by the same rules, here.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from importlib import import_module
from typing import Any, NamedTuple

from django.apps import apps
from django.conf import settings
from django.contrib.auth import (
    BACKEND_SESSION_KEY,
    HASH_SESSION_KEY,
    SESSION_KEY,
    get_user_model,
    load_backend,
)
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.crypto import constant_time_compare


def _session_store_class() -> Any:
    return import_module(settings.SESSION_ENGINE).SessionStore


class StoredSession(NamedTuple):
    """A session as the store holds it now (:func:`read_sessions`)."""

    data: dict[str, Any]
    #: When it ends if nothing saves it again; None when the store cannot tell.
    expires: datetime | None


def read_sessions(keys: Iterable[str]) -> dict[str, StoredSession]:
    """The current data and expiry of the sessions ``keys``; a session that is gone or
    expired is absent. One query for the database backends (``db``, ``cached_db``: the
    database is their truth, and the row's ``expire_date`` the expiry), one load per
    session for the others (cache, signed cookies, files), whose expiry is
    :func:`expiry_in`'s."""
    wanted = set(keys)
    if not wanted:
        return {}
    store_class = _session_store_class()
    if issubclass(store_class, DatabaseSessionStore):
        model = store_class.get_model_class()
        rows = model.objects.filter(session_key__in=wanted, expire_date__gt=timezone.now())
        decoder = store_class()
        return {
            row.session_key: StoredSession(decoder.decode(row.session_data), row.expire_date)
            for row in rows
        }
    found: dict[str, StoredSession] = {}
    for key in wanted:
        data = store_class(key).load()
        if data:
            found[key] = StoredSession(data, expiry_in(data))
    return found


def load_sessions(keys: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The current data of the sessions ``keys`` (:func:`read_sessions`)."""
    return {key: stored.data for key, stored in read_sessions(keys).items()}


def expiry_in(data: dict[str, Any]) -> datetime | None:
    """The expiry session ``data`` itself states: a date set by ``set_expiry(datetime or
    timedelta)`` (``SessionBase.get_expiry_date``'s reading). None otherwise: an expiry
    counted from the last save (``set_expiry(seconds)``, ``SESSION_COOKIE_AGE``) cannot be
    told from the data of a cache or cookie session, whose store ends it unseen."""
    expiry = data.get("_session_expiry")
    if isinstance(expiry, str):
        try:
            expiry = datetime.fromisoformat(expiry)
        except ValueError:
            return None
    return expiry if isinstance(expiry, datetime) else None


def session_expiries(keys: Iterable[str]) -> dict[str, datetime | None]:
    """When each of the sessions ``keys`` expires (absent: gone or expired already): one
    query for the database backends, the rows' expiry alone; :func:`read_sessions` for
    the others."""
    wanted = set(keys)
    if not wanted:
        return {}
    store_class = _session_store_class()
    if issubclass(store_class, DatabaseSessionStore):
        rows = store_class.get_model_class().objects.filter(
            session_key__in=wanted, expire_date__gt=timezone.now()
        )
        return dict(rows.values_list("session_key", "expire_date"))
    return {key: stored.expires for key, stored in read_sessions(wanted).items()}


def session_holds(user: Any, data: dict[str, Any] | None) -> bool:
    """Whether session ``data`` (:func:`load_sessions`) still signs ``user`` in: it names
    the user and carries the auth hash of the user's current password (or of a
    ``SECRET_KEY_FALLBACKS`` key), as ``django.contrib.auth.get_user`` requires."""
    if data is None or str(data.get(SESSION_KEY)) != str(user.pk):
        return False
    if not hasattr(user, "get_session_auth_hash"):
        return True
    session_hash = data.get(HASH_SESSION_KEY)
    if not session_hash:
        return False
    if constant_time_compare(session_hash, user.get_session_auth_hash()):
        return True
    return any(
        constant_time_compare(session_hash, fallback)
        for fallback in user.get_session_auth_fallback_hash()
    )


def users_of_sessions(stored: dict[str, StoredSession]) -> dict[str, Any]:
    """The user each of the sessions ``stored`` (:func:`read_sessions`) signs in, as
    :func:`django.contrib.auth.get_user` would find it (the session's backend is one of
    ``AUTHENTICATION_BACKENDS``, its ``get_user`` finds the user, the auth hash matches:
    :func:`session_holds`); sessions that sign nobody in are absent.

    The users of backends that find them as :class:`~django.contrib.auth.backends.ModelBackend`
    does (by primary key, if they may authenticate) are read with one query for all the
    sessions; other backends' ``get_user`` is called for each.
    """
    from django.contrib.auth.backends import ModelBackend  # Needs the app registry.

    model = get_user_model()
    backends: dict[str, Any] = {}
    by_pk: dict[str, tuple[Any, Any]] = {}  # session key -> (backend, primary key)
    by_backend: dict[str, tuple[Any, Any]] = {}  # session key -> (backend, user id)
    for key, session in stored.items():
        path = session.data.get(BACKEND_SESSION_KEY)
        user_id = session.data.get(SESSION_KEY)
        if user_id is None or not isinstance(path, str):
            continue
        if path not in settings.AUTHENTICATION_BACKENDS:
            continue
        if path not in backends:
            backends[path] = load_backend(path)
        backend = backends[path]
        if type(backend).get_user is not ModelBackend.get_user:
            by_backend[key] = (backend, user_id)
            continue
        try:
            by_pk[key] = (backend, model._meta.pk.to_python(user_id))
        except (ValidationError, TypeError, ValueError):
            continue  # Not a key of this model: the session signs nobody in.
    rows = model._default_manager.in_bulk({pk for _, pk in by_pk.values()}) if by_pk else {}
    users = {key: backend.get_user(user_id) for key, (backend, user_id) in by_backend.items()}
    for key, (backend, pk) in by_pk.items():
        user = rows.get(pk)
        users[key] = user if user is not None and backend.user_can_authenticate(user) else None
    return {
        key: user
        for key, user in users.items()
        if user is not None and session_holds(user, stored[key].data)
    }


def token_alive(user_id: Any, token: tuple[str, Any]) -> bool:
    """Whether the API token ``("app_label.model", pk)`` still exists for ``user_id``."""
    label, pk = token
    model = apps.get_model(label)
    user_field = "user_id" if hasattr(model, "user_id") else "user"
    return bool(model._default_manager.filter(pk=pk, **{user_field: user_id}).exists())
