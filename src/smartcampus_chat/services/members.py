"""Membership changes that only staff make (the admin): a role set, a ban lifted, a
membership row deleted. Joining, leaving and removing are in :mod:`.rooms`.

These are ``do_*`` functions: the admin's own permissions stand in for the chat policy.
Each announces the change like the chat's own doors do; the user's open sockets re-check
their access on the row's save or delete (:mod:`smartcampus_chat.receivers`).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from smartcampus_chat import signals
from smartcampus_chat.models import ChatParticipant
from smartcampus_chat.services.rooms import announce_joined, announce_left


def do_set_role(participant: ChatParticipant, role: str) -> ChatParticipant:
    """Give the participant ``role`` (owner, moderator, member): what the policy reads,
    so only that field is written and the user's sockets re-check their access."""
    with transaction.atomic():
        participant.role = role
        participant.save(update_fields=["role"])
    return participant


def do_unban_member(participant: ChatParticipant) -> ChatParticipant:
    """Lift a ban: the user is a participant again, announced as a join."""
    with transaction.atomic():
        participant.is_banned = False
        participant.save(update_fields=["is_banned"])
        announce_joined(participant.user, participant.room, participant)
    return participant


def do_delete_member(actor: Any, participant: ChatParticipant) -> None:
    """Delete a membership row (staff removing someone, ban or not).

    A banned row's leaving was announced at the ban; any other is announced now and sent as
    ``member_removed`` (by ``actor``), as a removal from the room settings is.
    """
    room, user = participant.room, participant.user
    with transaction.atomic():
        participant.delete()
        if participant.is_banned:
            return
        announce_left(user, room)
        signals.send_on_commit(
            signals.member_removed,
            ChatParticipant,
            participant=participant,
            room=room,
            user=user,
            by=actor,
        )
