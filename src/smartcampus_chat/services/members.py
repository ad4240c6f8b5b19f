"""Members of a room: join, leave, removal by a moderator, senders who become participants,
and the changes only staff make in the admin (a role set, a ban lifted, a row deleted)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from smartcampus_chat import queries, signals
from smartcampus_chat.domain.policies import RoomAccess, get_policy
from smartcampus_chat.domain.sanctions import clean_reason
from smartcampus_chat.exceptions import NotFound, PermissionDenied, RoomArchived
from smartcampus_chat.infra import ratelimit
from smartcampus_chat.models import AuditAction, ChatParticipant, ChatRoom, Role, RoomType
from smartcampus_chat.protocol.frames import (
    ModerationNotice,
    ParticipantJoined,
    ParticipantLeft,
    ParticipantUpdated,
    RoomAdded,
    RoomRemoved,
)
from smartcampus_chat.protocol.render import user_ref
from smartcampus_chat.realtime import events, presence
from smartcampus_chat.services import audit, notifications
from smartcampus_chat.services.rooms import room_access


def check_join_room(user: Any, room: ChatRoom) -> ChatParticipant:
    policy = get_policy()
    access = policy.access(user, room)
    if not access.can_see:
        raise NotFound()
    if room.is_archived:
        raise RoomArchived()
    if not policy.can_join(access, room):
        raise PermissionDenied()
    ratelimit.check_rate("membership", user)
    # In a course room the resolver's "moderator" (a teacher, a TA) is stored as such: the
    # members list and its badge show what the policy decides.
    moderator = room.room_type == RoomType.COURSE and access.role == Role.MODERATOR
    return do_join_room(user, room, Role.MODERATOR if moderator else Role.MEMBER)


def do_join_room(user: Any, room: ChatRoom, role: str = Role.MEMBER) -> ChatParticipant:
    """Make ``user`` a member. The row of a ban that has ended (the policy let them in)
    becomes a membership again."""
    with transaction.atomic():
        participant, created = ChatParticipant.objects.get_or_create(
            room=room, user=user, defaults={"role": role, "last_read_seq": room.last_seq}
        )
        if not created and participant.is_banned:
            participant.is_banned = False
            participant.banned_until = None
            participant.sanction_reason = ""
            participant.last_read_seq = room.last_seq
            participant.save(
                update_fields=["is_banned", "banned_until", "sanction_reason", "last_read_seq"]
            )
            created = True
        if created:
            announce_joined(user, room, participant)
    return participant


def announce_joined(user: Any, room: ChatRoom, participant: ChatParticipant) -> None:
    """Publish a new participant (on commit of the caller's transaction).

    Every way of becoming a participant (joining, a first message) must say so: the user's
    ``ws/chat/`` sockets follow a room on ``room.added``, and the others' lists on
    ``participant.joined``.
    """
    events.publish_to_room(
        room.pk,
        ParticipantJoined(room=room.slug, user=user_ref(user), role=participant.role),
    )
    events.publish_to_user(user.pk, RoomAdded(room=queries.room_payload(user, room)))
    # Already connected (reading the room before joining it): online there at once.
    user_id = user.pk
    transaction.on_commit(lambda: presence.joined_while_connected([user_id]))
    signals.send_on_commit(
        signals.member_joined, ChatParticipant, participant=participant, room=room, user=user
    )


def do_add_senders(participants: list[ChatParticipant]) -> None:
    """Senders who were not participants become ones (their first message), announced as
    joining would be, in the caller's transaction.

    One insert, primary keys set (the ``member_joined`` signal's ``participant`` is the
    stored row). A row a concurrent join created meanwhile fails the insert: the send
    pipeline then stores each send alone, and finds the row.
    """
    if not participants:
        return
    ChatParticipant.objects.bulk_create(participants)
    for participant in participants:
        announce_joined(participant.user, participant.room, participant)


def current_member(room: ChatRoom, user_id: Any) -> ChatParticipant:
    """A current member of ``room`` (NotFound for anyone else: a stranger, a banned or
    removed person), the target of a moderator's action."""
    participant = (
        ChatParticipant.objects.select_related("user")
        .filter(room=room, user_id=user_id, is_banned=False)
        .first()
        if isinstance(user_id, int)
        else None
    )
    if participant is None:
        raise NotFound(_("No such member."))
    return participant


def check_remove_member(
    actor: Any, room: ChatRoom, user_id: Any, *, reason: Any = ""
) -> ChatParticipant:
    policy = get_policy()
    access = policy.access(actor, room)
    if not access.can_see:
        raise NotFound()
    target = current_member(room, user_id)
    target_access = policy.access(target.user, room, target)
    if not policy.can_remove_user(
        actor, access, room, target.user, target_access.role or Role.MEMBER
    ):
        raise PermissionDenied()
    return do_remove_member(actor, room, target, reason=clean_reason(reason))


def do_remove_member(
    actor: Any, room: ChatRoom, participant: ChatParticipant, *, reason: str = ""
) -> ChatParticipant:
    """Remove a member for good (until a moderator lifts it: a ban without an end)."""
    with transaction.atomic():
        participant.is_banned = True
        participant.banned_until = None
        participant.sanction_reason = reason
        participant.is_online = False
        participant.save(
            update_fields=["is_banned", "banned_until", "sanction_reason", "is_online"]
        )
        if actor is not None:
            audit.record(
                actor,
                AuditAction.MEMBER_REMOVED,
                room=room,
                target_user=participant.user,
                reason=reason,
            )
        events.publish_to_user(
            participant.user_id, ModerationNotice(room=room.slug, action="removed", reason=reason)
        )
        announce_left(participant.user, room)
        signals.send_on_commit(
            signals.member_removed,
            ChatParticipant,
            participant=participant,
            room=room,
            user=participant.user,
            by=actor,
        )
    return participant


def check_leave_room(user: Any, room: ChatRoom, access: RoomAccess | None = None) -> bool:
    """Leave ``room``; True if the user was a member. Private conversations cannot be left.

    ``access``: the user's access to the room, when the caller decided it already.
    """
    access = access or room_access(user, room)
    if not access.can_see:
        raise NotFound()
    if not get_policy().can_leave(room):
        raise PermissionDenied(_("You cannot leave a private conversation."))
    participant = ChatParticipant.objects.filter(room=room, user=user, is_banned=False).first()
    if participant is None:
        return False
    ratelimit.check_rate("membership", user)
    do_leave_room(user, room, participant)
    return True


def do_leave_room(user: Any, room: ChatRoom, participant: ChatParticipant) -> None:
    """Delete the membership: the user may join again while the policy lets them see the room."""
    with transaction.atomic():
        participant.delete()
        announce_left(user, room)
        signals.send_on_commit(signals.member_left, ChatParticipant, room=room, user=user)


def announce_left(user: Any, room: ChatRoom) -> None:
    """Publish that ``user`` is no longer a participant (on commit of the caller's
    transaction): the others' lists drop them, their ``ws/chat/`` sockets stop following
    the room."""
    events.publish_to_room(room.pk, ParticipantLeft(room=room.slug, user=user_ref(user)))
    events.publish_to_user(user.pk, RoomRemoved(room=room.slug))
    notifications.do_room_left(user, room)


# --- changes only staff make (the admin): its own permissions stand in for the policy. The
# user's open sockets re-check their access on the row's save or delete (receivers).


def do_set_role(participant: ChatParticipant, role: str) -> ChatParticipant:
    """Give the participant ``role`` (owner, moderator, member): what the policy reads,
    so only that field is written and the user's sockets re-check their access."""
    with transaction.atomic():
        participant.role = role
        participant.save(update_fields=["role"])
        events.publish_to_room(
            participant.room_id,
            ParticipantUpdated(
                room=participant.room.slug, user=user_ref(participant.user), role=role
            ),
        )
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
