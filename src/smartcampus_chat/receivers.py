"""Keep live connections in step with changes made elsewhere in the host site.

The user of a WebSocket is resolved once, at the handshake; these receivers make logout,
deactivation and group changes reach sockets that are already open.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model, user_logged_out
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from smartcampus_chat import events
from smartcampus_chat.models import ChatRoom

User = get_user_model()


@receiver(user_logged_out, dispatch_uid="smartcampus_chat.logout")
def _on_logout(sender: Any, user: Any = None, **kwargs: Any) -> None:
    if user is not None:
        events.notify_session_ended(user.pk)


@receiver(post_save, sender=User, dispatch_uid="smartcampus_chat.user_saved")
def _on_user_saved(sender: Any, instance: Any, created: bool = False, **kwargs: Any) -> None:
    if not created and not getattr(instance, "is_active", True):
        events.notify_session_ended(instance.pk)


@receiver(post_delete, sender=ChatRoom, dispatch_uid="smartcampus_chat.room_deleted")
def _on_room_deleted(sender: Any, instance: ChatRoom, **kwargs: Any) -> None:
    events.notify_room_gone(instance.pk, instance.slug)


def _on_groups_changed(
    sender: Any, instance: Any, action: str, reverse: bool, pk_set: set[Any] | None, **kwargs: Any
) -> None:
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if reverse:
        # group.user_set changed: pk_set holds user ids (None on clear: everyone may be touched).
        user_ids = pk_set if pk_set is not None else set()
        for user_id in user_ids:
            events.notify_access_changed(int(user_id))
    else:
        events.notify_access_changed(instance.pk)


if hasattr(User, "groups"):
    m2m_changed.connect(
        _on_groups_changed, sender=User.groups.through, dispatch_uid="smartcampus_chat.groups"
    )
