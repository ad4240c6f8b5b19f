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

from django.db import IntegrityError, connection, transaction
from django.db.models import Case, F, IntegerField, Value, When
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from smartcampus_chat import events, ratelimit, signals
from smartcampus_chat.exceptions import ChatError, ValidationFailed
from smartcampus_chat.models import ChatMessage, ChatParticipant, ChatRoom, Role
from smartcampus_chat.outages import is_unavailable
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
from smartcampus_chat.services.rooms import announce_joined
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
            # these client ids first (IntegrityError), one message upset the database, or
            # the database is out of reach (then each fails alone too, with its own error).
            # Store each alone: the single path answers retries, errors stay with their own.
            if is_unavailable(exc):
                logger.warning("A batch of %d sends failed: %r", len(valid), exc)
            elif not isinstance(exc, IntegrityError):
                logger.warning(
                    "A batch of %d sends failed; storing them one by one",
                    len(valid),
                    exc_info=True,
                )
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
        numbers = _allocate({room_id: len(group) for room_id, group in by_room.items()}, now)
        for room_id in sorted(by_room):
            group = by_room[room_id]
            seq, event_seq = numbers[room_id]
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
        events.publish_many_to_rooms(
            [
                (item.room.pk, MessageNew(message=message_data(message, room_slug=item.room.slug)))
                for item, message in messages
            ]
        )
        for item, message in messages:
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
        # A superset of the wanted (room, sender, client id) triples, through the unique
        # index, with three IN lists: cheaper to build and to plan than an OR per request.
        candidates = ChatMessage.objects.filter(
            room_id__in={item.room.pk for item in keyed},
            sender_id__in={item.user.pk for item in keyed},
            client_id__in={item.client_id for item in keyed},
        )
        if connection.vendor == "postgresql":
            candidates = ChatMessage.objects.filter(pk__in=_known_ids_postgresql(keyed))
        for message in candidates.exclude(client_id="").select_related("sender").order_by():
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


def _allocate(counts: dict[int, int], now: Any) -> dict[int, tuple[int, int]]:
    """Take ``counts[room_id]`` message and change numbers of each room; the last of each.

    The rooms' rows stay locked until commit, locked in id order so that two batches (or a
    batch and a single send) sharing rooms queue instead of deadlocking. On PostgreSQL two
    statements whatever the number of rooms; elsewhere two per room.
    """
    if not counts:
        return {}
    if connection.vendor == "postgresql":
        return _allocate_postgresql(counts, now)
    numbers = {}
    for room_id in sorted(counts):
        ChatRoom.objects.filter(pk=room_id).update(
            last_seq=F("last_seq") + counts[room_id],
            last_event_seq=F("last_event_seq") + counts[room_id],
            last_message_at=now,
        )
        numbers[room_id] = (
            ChatRoom.objects.filter(pk=room_id).values_list("last_seq", "last_event_seq").get()
        )
    return numbers


def _columns(model: Any, *names: str) -> list[str]:
    meta = model._meta
    return [connection.ops.quote_name(meta.get_field(name).column) for name in names]


def _allocate_postgresql(counts: dict[int, int], now: Any) -> dict[int, tuple[int, int]]:
    table = connection.ops.quote_name(ChatRoom._meta.db_table)
    pk, seq, event_seq, at = _columns(
        ChatRoom, "id", "last_seq", "last_event_seq", "last_message_at"
    )
    ids = sorted(counts)
    values = ", ".join(["(%s, %s::integer)"] * len(ids))
    params: list[Any] = [now]
    for room_id in ids:
        params += [room_id, counts[room_id]]
    with connection.cursor() as cursor:
        # Identifiers come from the models' meta, values are parameters.
        cursor.execute(
            f"SELECT {pk} FROM {table} WHERE {pk} IN ({', '.join(['%s'] * len(ids))}) "  # noqa: S608
            f"ORDER BY {pk} FOR UPDATE",
            ids,
        )
        cursor.execute(
            f"UPDATE {table} AS r SET {seq} = r.{seq} + v.n, {event_seq} = r.{event_seq} + v.n, "  # noqa: S608
            f"{at} = %s FROM (VALUES {values}) AS v(id, n) WHERE r.{pk} = v.id "
            f"RETURNING r.{pk}, r.{seq}, r.{event_seq}",
            params,
        )
        return {row[0]: (row[1], row[2]) for row in cursor.fetchall()}


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
    if not last:
        return
    if connection.vendor == "postgresql":
        present = _move_markers_postgresql(last)
        missing = [
            ChatParticipant(
                room=rooms[room_id], user=users[user_id], role=Role.MEMBER, last_read_seq=seq
            )
            for room_id, seqs in last.items()
            for user_id, seq in seqs.items()
            if (room_id, user_id) not in present
        ]
        _add_participants(missing)
        return
    missing = []
    for room_id, seqs in last.items():
        marker = Case(
            *(When(user_id=user_id, then=Value(seq)) for user_id, seq in seqs.items()),
            output_field=IntegerField(),
        )
        updated = ChatParticipant.objects.filter(room_id=room_id, user_id__in=list(seqs)).update(
            last_read_seq=Greatest("last_read_seq", marker)
        )
        if updated < len(seqs):
            members = set(
                ChatParticipant.objects.filter(room_id=room_id, user_id__in=list(seqs)).values_list(
                    "user_id", flat=True
                )
            )
            missing.extend(
                ChatParticipant(
                    room=rooms[room_id], user=users[user_id], role=Role.MEMBER, last_read_seq=seq
                )
                for user_id, seq in seqs.items()
                if user_id not in members
            )
    _add_participants(missing)


def _add_participants(missing: list[ChatParticipant]) -> None:
    """Senders who were not participants become ones, announced as joining would be."""
    if not missing:
        return
    ChatParticipant.objects.bulk_create(missing, ignore_conflicts=True)
    for participant in missing:
        announce_joined(participant.user, participant.room, participant)


def _move_markers_postgresql(last: dict[int, dict[Any, int]]) -> set[tuple[int, Any]]:
    """One ``UPDATE ... FROM (VALUES ...)`` for every (room, sender); the pairs updated.

    The rooms are locked already (:func:`_allocate`), so concurrent batches touching the
    same participant rows are serialised by their rooms' locks.
    """
    table = connection.ops.quote_name(ChatParticipant._meta.db_table)
    room, user, marker = _columns(ChatParticipant, "room", "user", "last_read_seq")
    rows = [
        (room_id, user_id, seq) for room_id, seqs in last.items() for user_id, seq in seqs.items()
    ]
    values = ", ".join(["(%s, %s, %s::integer)"] * len(rows))
    params = [value for row in rows for value in row]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS p SET {marker} = GREATEST(p.{marker}, v.seq) "  # noqa: S608
            f"FROM (VALUES {values}) AS v(room_id, user_id, seq) "
            f"WHERE p.{room} = v.room_id AND p.{user} = v.user_id "
            f"RETURNING p.{room}, p.{user}",
            params,
        )
        return {(row[0], row[1]) for row in cursor.fetchall()}


def _known_ids_postgresql(items: list[_Valid]) -> list[int]:
    """Ids of stored messages matching the (room, sender, client id) of ``items``.

    A join with a ``VALUES`` list probes the unique index once per request; three ``IN``
    lists make PostgreSQL scan every message of the rooms (it can only use the index's
    first column with them).
    """
    table = connection.ops.quote_name(ChatMessage._meta.db_table)
    pk, room, sender, client_id = _columns(ChatMessage, "id", "room", "sender", "client_id")
    values = ", ".join(["(%s, %s, %s)"] * len(items))
    params = [value for item in items for value in (item.room.pk, item.user.pk, item.client_id)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT m.{pk} FROM {table} AS m JOIN (VALUES {values}) "  # noqa: S608
            f"AS v(room_id, sender_id, client_id) ON m.{room} = v.room_id "
            f"AND m.{sender} = v.sender_id AND m.{client_id} = v.client_id "
            f"WHERE m.{client_id} <> ''",
            params,
        )
        return [row[0] for row in cursor.fetchall()]
