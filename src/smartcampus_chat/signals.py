"""Signals the host site can receive. Each is sent after the change is committed.

- ``message_sent(sender=ChatMessage, message, room, user)`` (``user`` is None for a system
  message: ``services.post_system_message``)
- ``message_edited(sender=ChatMessage, message, room, user)``
- ``message_deleted(sender=ChatMessage, message, room, user)``
- ``users_mentioned(sender=ChatMessage, message, room, user, mentioned, everyone)``: a sent
  or edited message newly mentions the people ``mentioned`` (user ids, the author never
  among them) or, with ``everyone``, every member (``@everyone``/``@room``)
- ``announcement_acknowledged(sender=ChatAnnouncementAck, ack, message, room, user)``: a
  member acknowledged an announcement (once per person: not sent again on a repeat)
- ``reaction_changed(sender=ChatReaction, message, room, user, emoji, added)``
- ``room_created(sender=ChatRoom, room, user)``
- ``member_joined(sender=ChatParticipant, participant, room, user)``
- ``member_left(sender=ChatParticipant, room, user)``
- ``member_removed(sender=ChatParticipant, participant, room, user, by)`` (``by`` is None
  when the system removed them: the roster hook)

One signal goes the other way, from the host to the chat:

- ``roster_changed(sender=<your course model>, user, course)``: send it after a user's
  enrolment in a course changed; the chat calls ``services.enrolment_changed(user, course)``.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.dispatch import Signal

message_sent = Signal()
message_edited = Signal()
message_deleted = Signal()
users_mentioned = Signal()
reaction_changed = Signal()
announcement_acknowledged = Signal()
room_created = Signal()
member_joined = Signal()
member_left = Signal()
member_removed = Signal()
roster_changed = Signal()


def send_on_commit(signal: Signal, sender: type, **kwargs: Any) -> None:
    transaction.on_commit(lambda: signal.send(sender=sender, **kwargs))
