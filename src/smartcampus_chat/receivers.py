"""Keep live connections in step with changes made elsewhere in the host site.

The user of a WebSocket is resolved once, at the handshake; these receivers make logout,
deactivation, password changes, deleted sessions, group, staff and participant changes
(including those made through the Django admin or the ORM, which bypass the services)
reach sockets that are already open, within a second. They are the fast path: what sends
no signal (session expiry, cache-backend sessions, raw SQL) is caught by the sockets'
periodic re-check (``REVALIDATE_INTERVAL``, :mod:`smartcampus_chat.realtime.revalidation`).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth import SESSION_KEY, get_user_model, user_logged_out
from django.contrib.auth.models import Group
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save
from django.dispatch import receiver
from django.utils import timezone

from smartcampus_chat import services, signals
from smartcampus_chat.models import ChatParticipant, ChatRoom
from smartcampus_chat.realtime import events

User = get_user_model()

#: User fields whose change may end a socket's session or change its access.
_WATCHED = ("is_active", "is_staff", "is_superuser", "password")
_USER_FIELDS = tuple(
    name for name in _WATCHED if any(f.name == name for f in User._meta.concrete_fields)
)
#: Where the values before a save wait for ``post_save`` (an attribute of the instance).
_BEFORE = "_smartcampus_chat_before"
_MEMBERS = "_smartcampus_chat_members"
#: Participant fields the policy reads.
_PARTICIPANT_FIELDS = frozenset({"is_banned", "banned_until", "role", "silenced_until"})


@receiver(user_logged_out, dispatch_uid="smartcampus_chat.logout")
def _on_logout(sender: Any, user: Any = None, **kwargs: Any) -> None:
    if user is not None:
        events.notify_session_ended(user.pk)


def _watched(update_fields: Any) -> tuple[str, ...]:
    if update_fields is None:
        return _USER_FIELDS
    return tuple(name for name in _USER_FIELDS if name in update_fields)


@receiver(pre_save, sender=User, dispatch_uid="smartcampus_chat.user_saving")
def _before_user_saved(
    sender: Any, instance: Any, raw: bool = False, update_fields: Any = None, **kwargs: Any
) -> None:
    """Remember the watched fields as stored: one query for a save that may change them,
    none for the others (``update_fields=["last_login"]`` at every login)."""
    fields = _watched(update_fields)
    if raw or instance.pk is None or not fields:
        return
    before = sender._default_manager.filter(pk=instance.pk).values(*fields).first()
    setattr(instance, _BEFORE, before)


@receiver(post_save, sender=User, dispatch_uid="smartcampus_chat.user_saved")
def _on_user_saved(
    sender: Any, instance: Any, created: bool = False, update_fields: Any = None, **kwargs: Any
) -> None:
    if created:
        return
    fields = _watched(update_fields)
    if not fields:
        return
    before = instance.__dict__.pop(_BEFORE, None)
    if before is None:
        # Saved without a pre_save (or the row was missing): decide from the new values.
        if not getattr(instance, "is_active", True):
            events.notify_session_ended(instance.pk)
        return
    changed = {name for name in fields if before.get(name) != getattr(instance, name, None)}
    if "is_active" in changed and not getattr(instance, "is_active", True):
        events.notify_session_ended(instance.pk)
    elif "password" in changed:
        # Sessions made with the old password no longer verify (get_session_auth_hash);
        # the one that changed it is updated (update_session_auth_hash) and lives on.
        events.notify_session_changed(instance.pk)
    elif changed:
        events.notify_access_changed(instance.pk)


@receiver(post_delete, sender=ChatRoom, dispatch_uid="smartcampus_chat.room_deleted")
def _on_room_deleted(sender: Any, instance: ChatRoom, **kwargs: Any) -> None:
    events.notify_room_gone(instance.pk, instance.slug)


@receiver(post_save, sender=ChatParticipant, dispatch_uid="smartcampus_chat.participant_saved")
def _on_participant_saved(
    sender: Any,
    instance: ChatParticipant,
    created: bool = False,
    update_fields: Any = None,
    **kwargs: Any,
) -> None:
    """A ban, unban or role change made anywhere (the admin's ``save_model`` included)."""
    if created:
        if instance.is_banned:
            events.notify_access_changed(instance.user_id)
        return
    if update_fields is None or _PARTICIPANT_FIELDS.intersection(update_fields):
        events.notify_access_changed(instance.user_id)


@receiver(post_delete, sender=ChatParticipant, dispatch_uid="smartcampus_chat.participant_deleted")
def _on_participant_deleted(
    sender: Any, instance: ChatParticipant, origin: Any = None, **kwargs: Any
) -> None:
    deleted = origin.model if isinstance(origin, QuerySet) else type(origin)
    if deleted is ChatRoom or (deleted is User and origin is not None):
        return  # The room's or the user's own deletion tells the sockets (below).
    events.notify_access_changed(instance.user_id)


@receiver(post_delete, sender=User, dispatch_uid="smartcampus_chat.user_deleted")
def _on_user_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    events.notify_session_ended(instance.pk)


def _on_groups_changed(
    sender: Any,
    instance: Any,
    action: str,
    reverse: bool,
    model: Any,
    pk_set: set[Any] | None,
    **kwargs: Any,
) -> None:
    if not reverse:
        # user.groups.add/remove/clear(): one user.
        if action in ("post_add", "post_remove", "post_clear"):
            events.notify_access_changed(instance.pk)
        return
    # group.user_set changed: pk_set holds user ids, but None on clear, so the members
    # are read before the clear.
    if action == "pre_clear":
        members = list(model._default_manager.filter(groups=instance).values_list("pk", flat=True))
        setattr(instance, _MEMBERS, members)
        return
    if action == "post_clear":
        user_ids: Any = instance.__dict__.pop(_MEMBERS, ())
    elif action in ("post_add", "post_remove"):
        user_ids = pk_set or ()
    else:
        return
    for user_id in user_ids:
        events.notify_access_changed(user_id)


if hasattr(User, "groups"):
    m2m_changed.connect(
        _on_groups_changed, sender=User.groups.through, dispatch_uid="smartcampus_chat.groups"
    )

    @receiver(pre_delete, sender=Group, dispatch_uid="smartcampus_chat.group_deleted")
    def _on_group_deleted(sender: Any, instance: Group, **kwargs: Any) -> None:
        """The group's membership rows go without ``m2m_changed``: tell its members (after
        the commit, when the group is gone)."""
        for user_id in User._default_manager.filter(groups=instance).values_list("pk", flat=True):
            events.notify_access_changed(user_id)


def _on_session_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    """A database session deleted (logout elsewhere, ``flush``, an admin or a script):
    its user's sockets check their own session. Expired ones (``clearsessions``) are not
    decoded: the sockets' periodic re-check already ended them."""
    if instance.expire_date <= timezone.now():
        return
    user_id = instance.get_decoded().get(SESSION_KEY)
    if user_id is None:
        return
    try:
        pk = User._meta.pk.to_python(user_id)
    except ValidationError:  # A foreign or corrupt session is nobody's socket.
        return
    events.notify_session_changed(pk)


def _session_model() -> Any:
    """The session model of a database session engine; None for the others (cache, signed
    cookies: they send no signal, the periodic re-check covers them)."""
    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    if not issubclass(store_class, DatabaseSessionStore):
        return None
    try:
        return store_class.get_model_class()
    except (LookupError, RuntimeError):  # django.contrib.sessions is not installed.
        return None


if (_model := _session_model()) is not None:
    post_delete.connect(
        _on_session_deleted, sender=_model, dispatch_uid="smartcampus_chat.session_deleted"
    )


def _on_token_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    """An API token deleted: sockets opened with a ticket it asked for check their
    credential (``tickets``; another token model than DRF's is caught by the periodic
    re-check, or by the host calling ``events.notify_session_changed(user_id)``)."""
    events.notify_session_changed(instance.user_id)


if apps.is_installed("rest_framework.authtoken"):
    post_delete.connect(
        _on_token_deleted,
        sender="authtoken.Token",
        dispatch_uid="smartcampus_chat.token_deleted",
    )


@receiver(signals.roster_changed, dispatch_uid="smartcampus_chat.roster_changed")
def _on_roster_changed(sender: Any, user: Any, course: Any, **kwargs: Any) -> None:
    """The host's roster signal: the same as calling ``services.enrolment_changed``."""
    services.enrolment_changed(user, course)
