"""Group commit: several users' sends stored in one transaction.

Why: with one transaction per message, PostgreSQL spends most of each send waiting for its
commit (WAL flush) while the room row stays locked, which caps a room and a process at a
few hundred messages per second. :func:`check_send_messages` validates, checks and rate
limits every request exactly as :func:`~.messages.check_send_message` does, then stores the
valid ones together: one ``UPDATE`` per room allocates a block of numbers, one
``INSERT`` stores every message, one ``UPDATE`` per room moves the senders' read markers,
and one commit makes them all durable. Events and signals go out after that commit, and
only then are the results returned (the WebSocket ``ack``).

Per-request results are isolated: a request that fails validation, access or the rate
limit gets its error and the others are stored; if the batch's transaction fails (a
concurrent retry of the same ``client_id`` won the race, a database error) every request
is retried alone through :func:`~.messages.do_send_message`, so one bad message never
takes others down with it, nor acknowledges them falsely.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Case, F, IntegerField, Q, Value, When
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from smartcampus_chat import events, ratelimit, signals
from smartcampus_chat.exceptions import ChatError, ValidationFailed
from smartcampus_chat.models import ChatMessage, ChatParticipant, ChatRoom, Role
from smartcampus_chat.payloads import message_data
from smartcampus_chat.policies import RoomAccess, get_policy
from smartcampus_chat.schema import MessageNew
from smartcampus_chat.services.messages import (
    SendResult,
    _require_post,
    clean_client_id,
    clean_content,
    do_send_message,
)
from smartcampus_chat.validation import is_object_id

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SendRequest:
    """One ``message.send``: the arguments of :func:`~.messages.check_send_message`."""

    user: Any
    room: ChatRoom
    content: Any
    client_id: Any = None
    reply_to: Any = None
    access: RoomAccess | None = None


@dataclass
class _Valid:
    index: int
    user: Any
    room: ChatRoom
    content: str
    client_id: str
    reply_to: ChatMessage | None


def _validate(index: int, request: SendRequest) -> _Valid:
    content = clean_content(request.content)
    client_id = clean_client_id(request.client_id)
    access = request.access or get_policy().access(request.user, request.room)
    _require_post(access, request.room)
    ratelimit.check_send_rate(request.user)
    parent = None
    if request.reply_to is not None:
        if not is_object_id(request.reply_to):
            raise ValidationFailed(fields={"reply_to": [_("Must be a message id.")]})
        parent = ChatMessage.objects.filter(pk=request.reply_to, room=request.room).first()
        if parent is None:
            raise ValidationFailed(fields={"reply_to": [_("No such message in this room.")]})
    return _Valid(index, request.user, request.room, content, client_id, parent)


def check_send_messages(requests: list[SendRequest]) -> list[SendResult | Exception]:
    """Validate and store ``requests``; one result (or the error) per request, in order."""
    results: list[SendResult | Exception | None] = [None] * len(requests)
    valid: list[_Valid] = []
    for index, request in enumerate(requests):
        try:
            valid.append(_validate(index, request))
        except ChatError as exc:
            results[index] = exc
    if valid:
        try:
            for index, result in _store(valid).items():
                results[index] = result
        except Exception as exc:
            # The batch rolled back (with its events): a concurrent writer stored one of
            # these client ids first (IntegrityError), or one message upset the database.
            # Store each alone: the single path answers retries, errors stay with their own.
            if not isinstance(exc, IntegrityError):
                logger.warning("A batch of %d sends failed; storing them one by one", len(valid))
            for item in valid:
                results[item.index] = _store_alone(item)
    return [result for result in results if result is not None]


def _store_alone(item: _Valid) -> SendResult | Exception:
    try:
        return do_send_message(
            item.user, item.room, item.content, client_id=item.client_id, reply_to=item.reply_to
        )
    except Exception as exc:
        return exc


def _store(items: list[_Valid]) -> dict[int, SendResult]:
    """Store ``items`` in one transaction; the results by request index."""
    results: dict[int, SendResult] = {}
    now = timezone.now()
    with transaction.atomic():
        fresh, repeats = _drop_known_client_ids(items, results)
        by_room: dict[int, list[_Valid]] = defaultdict(list)
        for item in fresh:
            by_room[item.room.pk].append(item)
        messages: list[tuple[_Valid, ChatMessage]] = []
        # Rooms in id order: two batches lock their rooms in the same order (no deadlock).
        for room_id in sorted(by_room):
            group = by_room[room_id]
            seq, event_seq = _allocate(room_id, len(group), now)
            first_seq, first_event = seq - len(group) + 1, event_seq - len(group) + 1
            room = group[0].room
            for offset, item in enumerate(group):
                message = ChatMessage(
                    room=room,
                    sender=item.user,
                    content=item.content,
                    seq=first_seq + offset,
                    event_seq=first_event + offset,
                    client_id=item.client_id,
                    reply_to=item.reply_to,
                )
                messages.append((item, message))
            for item in group:
                item.room.last_seq, item.room.last_event_seq = seq, event_seq
        ChatMessage.objects.bulk_create([message for _, message in messages])
        _move_read_markers(messages)
        for item, message in messages:
            events.publish_to_room(
                item.room.pk, MessageNew(message=message_data(message, room_slug=item.room.slug))
            )
            signals.send_on_commit(
                signals.message_sent, ChatMessage, message=message, room=item.room, user=item.user
            )
            results[item.index] = SendResult(message, created=True)
    for repeat, first in repeats:
        results[repeat] = SendResult(results[first].message, created=False)
    return results


def _drop_known_client_ids(
    items: list[_Valid], results: dict[int, SendResult]
) -> tuple[list[_Valid], list[tuple[int, int]]]:
    """Split retries from new sends.

    A ``client_id`` already stored is answered with the stored message (in ``results``);
    one repeated within the batch is answered with its first occurrence's message once
    stored: those come back as (repeat's index, first's index). The rest, to store.
    """
    keyed = [item for item in items if item.client_id]
    known: dict[tuple[int, Any, str], ChatMessage] = {}
    if keyed:
        match = Q()
        for item in keyed:
            match |= Q(room_id=item.room.pk, sender_id=item.user.pk, client_id=item.client_id)
        for message in ChatMessage.objects.filter(match).select_related("sender"):
            known[(message.room_id, message.sender_id, message.client_id)] = message
    fresh: list[_Valid] = []
    first_in_batch: dict[tuple[int, Any, str], int] = {}
    repeats: list[tuple[int, int]] = []
    for item in items:
        key = (item.room.pk, item.user.pk, item.client_id)
        if item.client_id and key in known:
            results[item.index] = SendResult(known[key], created=False)
        elif item.client_id and key in first_in_batch:
            repeats.append((item.index, first_in_batch[key]))
        else:
            if item.client_id:
                first_in_batch[key] = item.index
            fresh.append(item)
    return fresh, repeats


def _allocate(room_id: int, count: int, now: Any) -> tuple[int, int]:
    """Take ``count`` message and change numbers of a room; the last of each."""
    ChatRoom.objects.filter(pk=room_id).update(
        last_seq=F("last_seq") + count,
        last_event_seq=F("last_event_seq") + count,
        last_message_at=now,
    )
    seq, event_seq = (
        ChatRoom.objects.filter(pk=room_id).values_list("last_seq", "last_event_seq").get()
    )
    return seq, event_seq


def _move_read_markers(messages: list[tuple[_Valid, ChatMessage]]) -> None:
    """Sending reads the room up to one's own message; senders become participants.

    One ``UPDATE`` per room (a ``CASE`` over its senders), then one insert of the missing
    participant rows, whatever the number of members.
    """
    last: dict[int, dict[Any, int]] = defaultdict(dict)
    rooms: dict[int, ChatRoom] = {}
    users: dict[Any, Any] = {}
    for item, message in messages:
        last[item.room.pk][item.user.pk] = message.seq
        rooms[item.room.pk] = item.room
        users[item.user.pk] = item.user
    missing: list[ChatParticipant] = []
    for room_id, seqs in last.items():
        marker = Case(
            *(When(user_id=user_id, then=Value(seq)) for user_id, seq in seqs.items()),
            output_field=IntegerField(),
        )
        updated = ChatParticipant.objects.filter(room_id=room_id, user_id__in=list(seqs)).update(
            last_read_seq=Greatest("last_read_seq", marker)
        )
        if updated < len(seqs):
            present = set(
                ChatParticipant.objects.filter(room_id=room_id, user_id__in=list(seqs)).values_list(
                    "user_id", flat=True
                )
            )
            missing.extend(
                ChatParticipant(
                    room=rooms[room_id], user=users[user_id], role=Role.MEMBER, last_read_seq=seq
                )
                for user_id, seq in seqs.items()
                if user_id not in present
            )
    if missing:
        ChatParticipant.objects.bulk_create(missing, ignore_conflicts=True)
