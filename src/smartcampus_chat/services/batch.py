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

from smartcampus_chat import queries, signals
from smartcampus_chat.domain.policies import RoomAccess, get_policy
from smartcampus_chat.domain.validation import is_object_id
from smartcampus_chat.exceptions import ChatError, RateLimited, RoomArchived, ValidationFailed
from smartcampus_chat.infra import ratelimit
from smartcampus_chat.infra.outages import is_unavailable
from smartcampus_chat.models import ChatMessage, ChatParticipant, ChatRoom, Role
from smartcampus_chat.protocol.frames import MessageNew, Schema, UserRef
from smartcampus_chat.protocol.render import message_data, user_ref
from smartcampus_chat.realtime import events
from smartcampus_chat.services.messages import (
    SendResult,
    _require_post,
    clean_client_id,
    clean_content,
    do_send_message,
)
from smartcampus_chat.services.rooms import announce_joined

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


def _accesses(requests: list[tuple[int, SendRequest]]) -> dict[tuple[Any, int], RoomAccess]:
    """The access of each (user, room) pair of ``requests`` that came without one.

    Decided once per pair, with the participant rows of every pair read in one query and
    handed to the policy (which would otherwise read one row per request).
    """
    wanted: dict[tuple[Any, int], SendRequest] = {}
    for _index, request in requests:
        if request.access is None:
            wanted.setdefault((request.user.pk, request.room.pk), request)
    if not wanted:
        return {}
    rows = queries.participant_rows(wanted)
    policy = get_policy()
    return {
        key: policy.access(request.user, request.room, rows.get(key))
        for key, request in wanted.items()
    }


def _validate(requests: list[SendRequest], results: list[Any]) -> list[_Valid]:
    """Check each request as :func:`~.messages.check_send_message` would, in its order:
    content, client id, access, rate limit, reply. Errors go to ``results``; the valid
    requests come back. Queries: one for the accesses not given, one for the replies."""
    cleaned: list[tuple[int, SendRequest, str, str]] = []
    for index, request in enumerate(requests):
        try:
            cleaned.append(
                (index, request, clean_content(request.content), clean_client_id(request.client_id))
            )
        except ChatError as exc:
            results[index] = exc
    accesses = _accesses([(index, request) for index, request, _, _ in cleaned])
    allowed: list[tuple[int, SendRequest, str, str]] = []
    for item in cleaned:
        index, request = item[0], item[1]
        access = request.access or accesses[(request.user.pk, request.room.pk)]
        try:
            _require_post(access, request.room)
        except ChatError as exc:
            results[index] = exc
        else:
            allowed.append(item)
    # One bucket operation for every sender's sends in the batch.
    per_user: dict[Any, list[int]] = defaultdict(list)
    for position, item in enumerate(allowed):
        per_user[item[1].user.pk].append(position)
    waits = ratelimit.take_each(
        ratelimit.send_bucket(), {pk: len(positions) for pk, positions in per_user.items()}
    )
    refused: set[int] = set()
    for pk, positions in per_user.items():
        for position, wait in zip(positions, waits[pk], strict=True):
            if wait:
                results[allowed[position][0]] = RateLimited(retry_after=wait)
                refused.add(position)
    admitted = [item for position, item in enumerate(allowed) if position not in refused]
    parents = _parents(admitted, results)
    valid: list[_Valid] = []
    for index, request, content, client_id in admitted:
        if results[index] is not None:
            continue
        parent = parents.get(request.reply_to) if request.reply_to is not None else None
        valid.append(_Valid(index, request.user, request.room, content, client_id, parent))
    return valid


def _parents(
    admitted: list[tuple[int, SendRequest, str, str]], results: list[Any]
) -> dict[Any, ChatMessage]:
    """The messages replied to, in one query; bad replies get their error in ``results``."""
    replies = [
        (index, request) for index, request, _, _ in admitted if request.reply_to is not None
    ]
    ids = {request.reply_to for _, request in replies if is_object_id(request.reply_to)}
    found = ChatMessage.objects.in_bulk(list(ids)) if ids else {}
    for index, request in replies:
        if not is_object_id(request.reply_to):
            results[index] = ValidationFailed(fields={"reply_to": [_("Must be a message id.")]})
        elif request.reply_to not in found or found[request.reply_to].room_id != request.room.pk:
            results[index] = ValidationFailed(
                fields={"reply_to": [_("No such message in this room.")]}
            )
    return found


def check_send_messages(requests: list[SendRequest]) -> list[SendResult | Exception]:
    """Validate and store ``requests``; one result (or the error) per request, in order."""
    results: list[SendResult | Exception | None] = [None] * len(requests)
    valid = _validate(requests, results)
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
            item.user,
            item.room,
            item.content,
            client_id=item.client_id,
            reply_to=item.reply_to,
            refuse_archived=True,
        )
    except Exception as exc:
        return exc


def _store(items: list[_Valid]) -> dict[int, SendResult | Exception]:
    """Store ``items`` in one transaction; the results by request index.

    A room archived since its senders' access was decided refuses their sends here, from
    the room's row as locked for numbering (no query more): a socket's cached room or
    access never lets a message into a read-only room.
    """
    results: dict[int, SendResult | Exception] = {}
    now = timezone.now()
    with transaction.atomic():
        fresh, repeats = _drop_known_client_ids(items, results)
        by_room: dict[int, list[_Valid]] = defaultdict(list)
        for item in fresh:
            by_room[item.room.pk].append(item)
        numbered: list[tuple[_Valid, int, int]] = []
        numbers = _allocate({room_id: len(group) for room_id, group in by_room.items()}, now)
        for room_id in sorted(by_room):
            group = by_room[room_id]
            if room_id not in numbers:  # Archived (or deleted): read-only.
                for item in group:
                    results[item.index] = RoomArchived()
                continue
            seq, event_seq = numbers[room_id]
            first_seq, first_event = seq - len(group) + 1, event_seq - len(group) + 1
            for offset, item in enumerate(group):
                numbered.append((item, first_seq + offset, first_event + offset))
            for item in group:
                item.room.last_seq, item.room.last_event_seq = seq, event_seq
        messages, present = _insert(numbered, now)
        _move_read_markers(messages, present)
        refs: dict[Any, UserRef] = {}
        frames: list[tuple[int, Schema]] = []
        for item, message in messages:
            ref = refs.get(item.user.pk)
            if ref is None:
                ref = refs[item.user.pk] = user_ref(item.user)
            data = message_data(message, room_slug=item.room.slug, sender=ref)
            frames.append((item.room.pk, MessageNew(message=data)))
            results[item.index] = SendResult(message, created=True, data=data)
        events.publish_many_to_rooms(frames)
        if signals.message_sent.has_listeners(ChatMessage):
            for item, message in messages:
                signals.send_on_commit(
                    signals.message_sent,
                    ChatMessage,
                    message=message,
                    room=item.room,
                    user=item.user,
                )
    for repeat, first in repeats:
        stored = results[first]
        results[repeat] = (
            SendResult(stored.message, created=False, data=stored.data)
            if isinstance(stored, SendResult)
            else stored
        )
    return results


def _insert(
    numbered: list[tuple[_Valid, int, int]], now: Any
) -> tuple[list[tuple[_Valid, ChatMessage]], set[tuple[int, Any]] | None]:
    """Insert the numbered messages; each with its stored message (primary key set).

    On PostgreSQL the senders' read markers move in the same statement: the (room, sender)
    pairs that had a participant row come back too (None elsewhere: not moved yet).
    """
    messages = [
        (
            item,
            ChatMessage(
                room=item.room,
                sender=item.user,
                content=item.content,
                created_at=now,
                seq=seq,
                event_seq=event_seq,
                client_id=item.client_id,
                reply_to=item.reply_to,
            ),
        )
        for item, seq, event_seq in numbered
    ]
    if not messages:
        return messages, None
    if connection.vendor != "postgresql":
        ChatMessage.objects.bulk_create([message for _, message in messages])
        return messages, None
    ids, present = _insert_postgresql(numbered, now)
    for item, message in messages:
        message.pk = ids[(item.room.pk, message.seq)]
        message._state.adding = False
        message._state.db = connection.alias
    return messages, present


def _insert_postgresql(
    numbered: list[tuple[_Valid, int, int]], now: Any
) -> tuple[dict[tuple[int, int], int], set[tuple[int, Any]]]:
    """One statement: insert the messages and move the senders' read markers.

    The insert is ``INSERT ... SELECT FROM unnest(...)`` of plain column arrays: where
    ``bulk_create`` prepares every value of every model instance in Python and sends one
    placeholder per value, this sends one array per column, the same statement whatever
    the batch size. The markers move in a second data-modifying ``WITH`` query of the same
    statement (one round trip fewer per batch). The rooms are locked already
    (:func:`_allocate`), so concurrent batches touching the same participant rows are
    serialised by their rooms' locks. Returns the new ids by (room, seq) and the (room,
    sender) pairs whose participant row was found.
    """
    table = connection.ops.quote_name(ChatMessage._meta.db_table)
    names = ("room", "sender", "content", "seq", "event_seq", "client_id", "reply_to")
    columns = _columns(ChatMessage, *names)
    types = _db_types(ChatMessage, *names)
    created_at, is_edited, is_deleted, pk, room, seq = _columns(
        ChatMessage, "created_at", "is_edited", "is_deleted", "id", "room", "seq"
    )
    arrays = [
        [item.room.pk for item, _, _ in numbered],
        [item.user.pk for item, _, _ in numbered],
        [item.content for item, _, _ in numbered],
        [number for _, number, _ in numbered],
        [event_seq for _, _, event_seq in numbered],
        [item.client_id for item, _, _ in numbered],
        [item.reply_to.pk if item.reply_to is not None else None for item, _, _ in numbered],
    ]
    last: dict[tuple[int, Any], int] = {}
    for item, number, _event_seq in numbered:
        key = (item.room.pk, item.user.pk)
        last[key] = max(number, last.get(key, 0))
    participants = connection.ops.quote_name(ChatParticipant._meta.db_table)
    p_room, p_user, marker = _columns(ChatParticipant, "room", "user", "last_read_seq")
    room_type, user_type = _db_types(ChatParticipant, "room", "user")
    unnest = ", ".join(f"%s::{column_type}[]" for column_type in types)
    with connection.cursor() as cursor:
        # Identifiers and types come from the models' meta, values are parameters.
        cursor.execute(
            f"WITH ins AS (INSERT INTO {table} ({', '.join(columns)}, {created_at}, "  # noqa: S608
            f"{is_edited}, {is_deleted}) SELECT *, %s, false, false FROM unnest({unnest}) "
            f"RETURNING {room}, {seq}, {pk}), "
            f"mk AS (UPDATE {participants} AS p SET {marker} = GREATEST(p.{marker}, v.seq) "
            f"FROM unnest(%s::{room_type}[], %s::{user_type}[], %s::bigint[]) "
            f"AS v(room_id, user_id, seq) WHERE p.{p_room} = v.room_id "
            f"AND p.{p_user} = v.user_id RETURNING p.{p_room}, p.{p_user}) "
            f"SELECT {room}, {seq}, {pk}, NULL::{user_type} FROM ins "
            f"UNION ALL SELECT {p_room}, NULL, NULL, {p_user} FROM mk",
            [
                now,
                *arrays,
                [room_id for room_id, _ in last],
                [user_id for _, user_id in last],
                list(last.values()),
            ],
        )
        ids: dict[tuple[int, int], int] = {}
        present: set[tuple[int, Any]] = set()
        for row_room, row_seq, row_id, row_user in cursor.fetchall():
            if row_id is None:
                present.add((row_room, row_user))
            else:
                ids[(row_room, row_seq)] = row_id
        return ids, present


def _drop_known_client_ids(
    items: list[_Valid], results: dict[int, SendResult | Exception]
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
    Archived rooms are left alone and absent from the result.

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
        updated = ChatRoom.objects.filter(pk=room_id, is_archived=False).update(
            last_seq=F("last_seq") + counts[room_id],
            last_event_seq=F("last_event_seq") + counts[room_id],
            last_message_at=now,
        )
        if not updated:
            continue
        numbers[room_id] = (
            ChatRoom.objects.filter(pk=room_id).values_list("last_seq", "last_event_seq").get()
        )
    return numbers


def _db_types(model: Any, *names: str) -> list[str]:
    """The database types of ``names`` (for array casts: ``%s::bigint[]``)."""
    return [str(model._meta.get_field(name).db_type(connection)) for name in names]


def _columns(model: Any, *names: str) -> list[str]:
    meta = model._meta
    return [connection.ops.quote_name(meta.get_field(name).column) for name in names]


def _allocate_postgresql(counts: dict[int, int], now: Any) -> dict[int, tuple[int, int]]:
    """One statement: lock the rooms in id order, then number them.

    The ``locked`` query yields (and locks) rows in id order, and a room is only updated
    once joined with its locked row, so every batch takes its rooms' locks in the same
    order (no deadlock between batches) without a round trip of its own.
    """
    table = connection.ops.quote_name(ChatRoom._meta.db_table)
    pk, seq, event_seq, at, archived = _columns(
        ChatRoom, "id", "last_seq", "last_event_seq", "last_message_at", "is_archived"
    )
    (pk_type,) = _db_types(ChatRoom, "id")
    ids = sorted(counts)
    with connection.cursor() as cursor:
        # Identifiers come from the models' meta, values are parameters.
        cursor.execute(
            f"WITH locked AS MATERIALIZED (SELECT {pk} FROM {table} "  # noqa: S608
            f"WHERE {pk} = ANY(%s::{pk_type}[]) ORDER BY {pk} FOR UPDATE) "
            f"UPDATE {table} AS r SET {seq} = r.{seq} + v.n, {event_seq} = r.{event_seq} + v.n, "
            f"{at} = %s FROM unnest(%s::{pk_type}[], %s::integer[]) AS v(id, n), locked AS l "
            f"WHERE r.{pk} = v.id AND l.{pk} = r.{pk} AND NOT r.{archived} "
            f"RETURNING r.{pk}, r.{seq}, r.{event_seq}",
            [ids, now, ids, [counts[room_id] for room_id in ids]],
        )
        return {row[0]: (row[1], row[2]) for row in cursor.fetchall()}


def _move_read_markers(
    messages: list[tuple[_Valid, ChatMessage]], present: set[tuple[int, Any]] | None
) -> None:
    """Sending reads the room up to one's own message; senders become participants.

    ``present``: the (room, sender) pairs whose marker moved already (PostgreSQL, with the
    insert); otherwise one ``UPDATE`` per room (a ``CASE`` over its senders). Then one
    insert of the missing participant rows, whatever the number of members.
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
    if present is not None:
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


def _known_ids_postgresql(items: list[_Valid]) -> list[int]:
    """Ids of stored messages matching the (room, sender, client id) of ``items``.

    A join with the requests' (room, sender, client id) arrays probes the unique index once
    per request; three ``IN`` lists make PostgreSQL scan every message of the rooms (it can
    only use the index's first column with them).
    """
    table = connection.ops.quote_name(ChatMessage._meta.db_table)
    pk, room, sender, client_id = _columns(ChatMessage, "id", "room", "sender", "client_id")
    types = _db_types(ChatMessage, "room", "sender", "client_id")
    arrays = [
        [item.room.pk for item in items],
        [item.user.pk for item in items],
        [item.client_id for item in items],
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT m.{pk} FROM {table} AS m JOIN unnest(%s::{types[0]}[], "  # noqa: S608
            f"%s::{types[1]}[], %s::{types[2]}[]) AS v(room_id, sender_id, client_id) "
            f"ON m.{room} = v.room_id AND m.{sender} = v.sender_id "
            f"AND m.{client_id} = v.client_id WHERE m.{client_id} <> ''",
            arrays,
        )
        return [row[0] for row in cursor.fetchall()]
