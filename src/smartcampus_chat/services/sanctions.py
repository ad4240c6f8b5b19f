"""A moderator's sanctions on a member: mute, ban, their lifting, a role change, a removal.

Each is a ``check_*`` (the policy's :meth:`~smartcampus_chat.domain.policies.ChatPolicy.
can_sanction` or ``can_set_role``, the duration and reason rules of
:mod:`smartcampus_chat.domain.sanctions`) and a ``do_*`` that writes the participant row,
the audit entry and the notice to the person in one transaction. The row's save makes the
person's open sockets re-read their access within a second (:mod:`smartcampus_chat.
receivers`): a ban closes the room on them, a mute refuses their next send with ``muted``.
Mutes and bans end by themselves: the policy compares their end with the clock.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from smartcampus_chat.domain.policies import RoomAccess, get_policy, is_banned_now, is_current
from smartcampus_chat.domain.sanctions import clean_duration, clean_reason, is_indefinite
from smartcampus_chat.exceptions import NotFound, PermissionDenied, ValidationFailed
from smartcampus_chat.models import AuditAction, ChatParticipant, ChatRoom, Role
from smartcampus_chat.protocol.frames import ModerationNotice, SanctionName
from smartcampus_chat.realtime import events
from smartcampus_chat.services import audit
from smartcampus_chat.services.members import announce_left, current_member, do_set_role
from smartcampus_chat.services.rooms import room_access


def _actor_access(actor: Any, room: ChatRoom) -> RoomAccess:
    access = room_access(actor, room)
    if not access.can_see:
        raise NotFound()
    return access


def _check_may_sanction(
    actor: Any, access: RoomAccess, room: ChatRoom, target: Any, participant: ChatParticipant | None
) -> None:
    policy = get_policy()
    target_role = policy.access(target, room, participant).role or Role.MEMBER
    if not policy.can_sanction(actor, access, room, target, target_role):
        raise PermissionDenied(_("You may not act on this member."))


def _until_detail(until: datetime | None) -> dict[str, Any]:
    return {"until": None if until is None or is_indefinite(until) else until.isoformat()}


def _notify(
    participant: ChatParticipant,
    room: ChatRoom,
    action: SanctionName,
    *,
    until: datetime | None = None,
    reason: str = "",
    role: str | None = None,
) -> None:
    events.publish_to_user(
        participant.user_id,
        ModerationNotice(room=room.slug, action=action, until=until, reason=reason, role=role),
    )


# --- mute -------------------------------------------------------------------------------


def check_mute_member(
    actor: Any, room: ChatRoom, user_id: Any, *, duration: Any = None, reason: Any = ""
) -> ChatParticipant:
    """Mute a member for ``duration`` seconds (None: until unmuted): they read, but
    neither post nor react."""
    access = _actor_access(actor, room)
    participant = current_member(room, user_id)
    _check_may_sanction(actor, access, room, participant.user, participant)
    return do_mute_member(actor, room, participant, clean_duration(duration), clean_reason(reason))


def do_mute_member(
    actor: Any, room: ChatRoom, participant: ChatParticipant, until: datetime, reason: str
) -> ChatParticipant:
    with transaction.atomic():
        participant.silenced_until = until
        participant.sanction_reason = reason
        participant.save(update_fields=["silenced_until", "sanction_reason"])
        audit.record(
            actor,
            AuditAction.MEMBER_MUTED,
            room=room,
            target_user=participant.user,
            reason=reason,
            details=_until_detail(until),
        )
        shown = None if is_indefinite(until) else until
        _notify(participant, room, "muted", until=shown, reason=reason)
    return participant


def check_unmute_member(actor: Any, room: ChatRoom, user_id: Any) -> ChatParticipant:
    access = _actor_access(actor, room)
    participant = current_member(room, user_id)
    _check_may_sanction(actor, access, room, participant.user, participant)
    if not is_current(participant.silenced_until):
        raise ValidationFailed(_("This member is not muted."))
    return do_unmute_member(actor, room, participant)


def do_unmute_member(actor: Any, room: ChatRoom, participant: ChatParticipant) -> ChatParticipant:
    with transaction.atomic():
        participant.silenced_until = None
        participant.sanction_reason = ""
        participant.save(update_fields=["silenced_until", "sanction_reason"])
        audit.record(actor, AuditAction.MEMBER_UNMUTED, room=room, target_user=participant.user)
        _notify(participant, room, "unmuted")
    return participant


# --- ban --------------------------------------------------------------------------------


def check_ban_member(
    actor: Any, room: ChatRoom, user_id: Any, *, duration: Any = None, reason: Any = ""
) -> ChatParticipant:
    """Ban ``user_id`` from ``room`` for ``duration`` seconds (None: until lifted): out of
    the room at once, unable to see or rejoin it until then. Someone who left the room to
    avoid it can be banned too, while the room is theirs to see."""
    access = _actor_access(actor, room)
    target = (
        get_user_model()._default_manager.filter(pk=user_id).first()
        if isinstance(user_id, int)
        else None
    )
    participant = ChatParticipant.objects.filter(room=room, user=target).first() if target else None
    if target is None or is_banned_now(participant):
        raise NotFound(_("No such member."))
    if not get_policy().access(target, room, participant).can_see:
        raise NotFound(_("No such member."))
    _check_may_sanction(actor, access, room, target, participant)
    until, reason = clean_duration(duration), clean_reason(reason)
    return do_ban_member(actor, room, target, participant, until, reason)


def do_ban_member(
    actor: Any,
    room: ChatRoom,
    user: Any,
    participant: ChatParticipant | None,
    until: datetime,
    reason: str,
) -> ChatParticipant:
    with transaction.atomic():
        was_member = participant is not None and not participant.is_banned
        if participant is None:
            participant = ChatParticipant(room=room, user=user, last_read_seq=room.last_seq)
        participant.is_banned = True
        participant.banned_until = until
        participant.sanction_reason = reason
        participant.is_online = False
        participant.save()
        audit.record(
            actor,
            AuditAction.MEMBER_BANNED,
            room=room,
            target_user=user,
            reason=reason,
            details=_until_detail(until),
        )
        _notify(
            participant,
            room,
            "banned",
            until=None if is_indefinite(until) else until,
            reason=reason,
        )
        if was_member:
            announce_left(user, room)
    return participant


def check_lift_ban(actor: Any, room: ChatRoom, user_id: Any) -> ChatParticipant:
    """Lift a ban or removal before its end: the person may see and join the room again
    (they are not made a member: they join when they choose)."""
    access = _actor_access(actor, room)
    participant = (
        ChatParticipant.objects.select_related("user")
        .filter(room=room, user_id=user_id, is_banned=True)
        .first()
        if isinstance(user_id, int)
        else None
    )
    if participant is None or not is_banned_now(participant):
        raise NotFound(_("No such ban."))
    _check_may_sanction(actor, access, room, participant.user, None)
    return do_lift_ban(actor, room, participant)


def do_lift_ban(actor: Any, room: ChatRoom, participant: ChatParticipant) -> ChatParticipant:
    with transaction.atomic():
        participant.banned_until = timezone.now()
        participant.sanction_reason = ""
        participant.save(update_fields=["banned_until", "sanction_reason"])
        audit.record(actor, AuditAction.MEMBER_UNBANNED, room=room, target_user=participant.user)
        _notify(participant, room, "unbanned")
        events.notify_access_changed(participant.user_id)
    return participant


# --- roles ------------------------------------------------------------------------------


def check_set_role(actor: Any, room: ChatRoom, user_id: Any, role: Any) -> ChatParticipant:
    """Give a member another role (read-only, member, moderator: the policy says who
    gives which)."""
    access = _actor_access(actor, room)
    participant = current_member(room, user_id)
    if not isinstance(role, str) or role not in Role.values:
        raise ValidationFailed(fields={"role": [_("Not a role.")]})
    policy = get_policy()
    current = participant.role
    if not policy.can_set_role(actor, access, room, participant.user, current, role):
        raise PermissionDenied(_("You may not give this role."))
    if role == current:
        return participant
    return do_set_member_role(actor, room, participant, role)


def do_set_member_role(
    actor: Any, room: ChatRoom, participant: ChatParticipant, role: str
) -> ChatParticipant:
    with transaction.atomic():
        before = participant.role
        do_set_role(participant, role)
        audit.record(
            actor,
            AuditAction.ROLE_CHANGED,
            room=room,
            target_user=participant.user,
            details={"from": before, "to": role},
        )
        _notify(participant, room, "role", role=role)
    return participant
