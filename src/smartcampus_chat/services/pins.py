"""Pins: a room's moderators pin messages to its "Pinned" panel, and unpin them.

Pinning twice, or unpinning a message that is not pinned, changes nothing. A change takes
the room's next ``event_seq`` (the message changed, as for an edit) and publishes
``message.pinned`` with the message as it is now.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from smartcampus_chat.conf import app_settings
from smartcampus_chat.domain.policies import RoomAccess
from smartcampus_chat.exceptions import MessageGone, PermissionDenied, ValidationFailed
from smartcampus_chat.models import ChatMessage
from smartcampus_chat.protocol.frames import MessagePinned
from smartcampus_chat.protocol.render import message_data
from smartcampus_chat.realtime import events
from smartcampus_chat.services.messages import Unchanged, check_can_post, lock_message, next_event


def check_pin(user: Any, message: ChatMessage, access: RoomAccess, *, pinned: bool) -> ChatMessage:
    """Pin (``pinned``) or unpin ``message``: its room's moderators only."""
    check_can_post(access, message.room)
    if not access.can_moderate:
        raise PermissionDenied(_("Only the room's moderators pin messages."))
    if pinned and message.is_deleted:
        raise MessageGone()
    return do_pin(message, pinned=pinned)


def do_pin(message: ChatMessage, *, pinned: bool) -> ChatMessage:
    """The change, under the room's and the message's locks."""
    try:
        with transaction.atomic():
            event_seq = next_event(message.room_id)
            lock_message(message)
            if pinned == (message.pinned_at is not None):
                raise Unchanged
            if pinned:
                if message.is_deleted:
                    raise MessageGone()
                room_pins = ChatMessage.objects.filter(room_id=message.room_id)
                if room_pins.filter(pinned_at__isnull=False).count() >= app_settings.MAX_PINS:
                    text = _("A room has at most %(max)d pinned messages.") % {
                        "max": app_settings.MAX_PINS
                    }
                    raise ValidationFailed(text, fields={"message_id": [text]})
            message.pinned_at = timezone.now() if pinned else None
            message.event_seq = event_seq
            message.save(update_fields=["pinned_at", "event_seq"])
            events.publish_to_room(message.room_id, MessagePinned(message=message_data(message)))
    except Unchanged:
        pass  # The message as read under its lock (lock_message): nothing changed since.
    return message
