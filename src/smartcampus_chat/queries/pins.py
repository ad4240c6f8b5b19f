"""A room's pinned messages (its "Pinned" panel), newest pin first: one query."""

from __future__ import annotations

from smartcampus_chat.conf import app_settings
from smartcampus_chat.models import ChatMessage, ChatRoom


def pinned_messages(room: ChatRoom) -> list[ChatMessage]:
    """The pinned messages of ``room`` still there, newest pin first (with what their
    payload shows: ``ChatMessage.objects.shown()``)."""
    return list(
        ChatMessage.objects.filter(room=room, pinned_at__isnull=False, is_deleted=False)
        .shown()
        .order_by("-pinned_at")[: app_settings.MAX_PINS]
    )
