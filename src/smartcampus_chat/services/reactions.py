"""Reactions: one person's emoji on a message, as a set ("add 👍" twice is one reaction,
removing one that is not there changes nothing), so that a client may retry freely.

A change bumps the message's ``event_seq`` (the room's next change number, like an edit)
and publishes ``message.reactions`` with the message as it is now: a client that missed
the frame gets the message again when it resumes. The signal ``reaction_changed`` tells
the host (and the notifications to come) after commit.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from smartcampus_chat import signals
from smartcampus_chat.conf import app_settings
from smartcampus_chat.domain.policies import RoomAccess
from smartcampus_chat.domain.reactions import clean_emoji
from smartcampus_chat.exceptions import MessageGone, PermissionDenied, ValidationFailed
from smartcampus_chat.infra import ratelimit
from smartcampus_chat.models import ChatMessage, ChatReaction
from smartcampus_chat.protocol.frames import MessageReactions
from smartcampus_chat.protocol.render import message_data
from smartcampus_chat.realtime import events
from smartcampus_chat.services.messages import Unchanged, check_can_react, lock_message, next_event


def check_react(
    user: Any, message: ChatMessage, emoji: Any, access: RoomAccess, *, add: bool
) -> ChatMessage:
    """Add (``add``) or remove ``user``'s ``emoji`` on ``message``: whoever may post in the
    room reacts to a message still there; answers the message as it is now."""
    cleaned = clean_emoji(emoji)
    check_can_react(access, message.room)
    if message.is_deleted:
        raise MessageGone()
    if add and message.anonymous and message.sender_id == user.pk:
        # The reactions name their people: one's own would name the anonymous author.
        raise PermissionDenied(_("You cannot react to your own anonymous post."))
    ratelimit.check_send_rate(user)
    return do_react(user, message, cleaned, add=add)


def do_react(user: Any, message: ChatMessage, emoji: str, *, add: bool) -> ChatMessage:
    """The change, under the room's and the message's locks (the order of every writer)."""
    try:
        with transaction.atomic():
            event_seq = next_event(message.room_id)
            lock_message(message)
            if message.is_deleted:
                raise MessageGone()
            rows = list(ChatReaction.objects.filter(message=message).order_by("pk"))
            message.reaction_rows = rows  # type: ignore[attr-defined]
            mine = [r for r in rows if r.user_id == user.pk and r.emoji == emoji]
            if add == bool(mine):
                raise Unchanged
            if add:
                _check_room_for(emoji, rows)
                rows.append(ChatReaction.objects.create(message=message, user=user, emoji=emoji))
            else:
                ChatReaction.objects.filter(pk=mine[0].pk).delete()
                rows.remove(mine[0])
            message.event_seq = event_seq
            message.save(update_fields=["event_seq"])
            events.publish_to_room(message.room_id, MessageReactions(message=message_data(message)))
            signals.send_on_commit(
                signals.reaction_changed,
                ChatReaction,
                message=message,
                room=message.room,
                user=user,
                emoji=emoji,
                added=add,
            )
    except Unchanged:
        pass  # The message as read under its lock (lock_message): nothing changed since.
    return message


def _check_room_for(emoji: str, rows: list[ChatReaction]) -> None:
    """The limits of one message: distinct emoji, and reactions in all."""
    kinds = {row.emoji for row in rows}
    if emoji not in kinds and len(kinds) >= app_settings.MAX_REACTION_EMOJI:
        message = _("A message has at most %(max)d different reactions.") % {
            "max": app_settings.MAX_REACTION_EMOJI
        }
        raise ValidationFailed(message, fields={"emoji": [message]})
    if len(rows) >= app_settings.MAX_REACTIONS:
        message = _("A message has at most %(max)d reactions.") % {
            "max": app_settings.MAX_REACTIONS
        }
        raise ValidationFailed(message, fields={"emoji": [message]})
