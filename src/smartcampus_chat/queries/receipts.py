"""Read receipts ("Seen by"): derived from the members' read markers, never a row per
message, in rooms where they apply (the policy's ``receipts_apply``), among the members who
share theirs (``ChatPreferences.read_receipts``: who does not share sees none either)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import BooleanField, F, Value
from django.db.models.functions import Coalesce

from smartcampus_chat.conf import app_settings
from smartcampus_chat.domain.policies import get_policy
from smartcampus_chat.models import ChatMessage, ChatParticipant, ChatRoom
from smartcampus_chat.queries.preferences import preferences_of


@dataclass(frozen=True)
class Receipt:
    """A member who shares receipts, and the last message number they read."""

    user: Any
    last_read_seq: int


def shares_receipts(user: Any) -> bool:
    """Whether ``user`` shares (and sees) read receipts (one query)."""
    return preferences_of(user).read_receipts


def _sharing_members(room: ChatRoom) -> list[Any] | None:
    """The room's members who share receipts (``shares`` annotated on each member), or None
    when receipts do not apply to the room (off, or too many members): one query at most."""
    if not room.read_receipts:
        return None
    limit = app_settings.READ_RECEIPTS_MAX_MEMBERS
    members = list(
        ChatParticipant.objects.filter(room=room, is_banned=False)
        .select_related("user")
        .annotate(
            shares=Coalesce(
                F("user__chat_preferences__read_receipts"),
                Value(True),
                output_field=BooleanField(),
            )
        )
        .order_by("pk")[: limit + 1]
    )
    if not get_policy().receipts_apply(room, len(members)):
        return None
    return members


def read_receipts(room: ChatRoom, viewer: Any) -> list[Receipt] | None:
    """What ``viewer`` is shown of ``room``'s receipts (the others' markers), or None: none
    shown (the room's setting, its size, or the viewer's own choice). Two queries at most."""
    members = _sharing_members(room)
    if members is None:
        return None
    mine = next((m for m in members if m.user_id == viewer.pk), None)
    if not (mine.shares if mine is not None else shares_receipts(viewer)):
        return None
    return [
        Receipt(m.user, m.last_read_seq) for m in members if m.shares and m.user_id != viewer.pk
    ]


def receipt_audience(room: ChatRoom, reader: Any) -> list[int]:
    """Who is told that ``reader``'s marker moved: the other members who share receipts,
    if ``reader`` shares theirs and receipts apply to the room (else nobody)."""
    members = _sharing_members(room)
    if members is None:
        return []
    if not any(m.user_id == reader.pk and m.shares for m in members):
        return []
    return [m.user_id for m in members if m.shares and m.user_id != reader.pk]


def place_receipts(
    messages: Sequence[ChatMessage], receipts: Sequence[Receipt] | None
) -> dict[int, list[Any]]:
    """{message id: the readers shown under it}: each reader under the newest message of
    ``messages`` (oldest first) they have read that they did not write (the browser client
    applies the same rule; an anonymous post is nobody's here)."""
    placed: dict[int, list[Any]] = {}
    for receipt in receipts or ():
        # An anonymous post counts as anyone's: skipping it for its author would name them.
        seen = [
            m
            for m in messages
            if m.seq <= receipt.last_read_seq and (m.anonymous or m.sender_id != receipt.user.pk)
        ]
        if seen:
            placed.setdefault(seen[-1].pk, []).append(receipt.user)
    return placed
