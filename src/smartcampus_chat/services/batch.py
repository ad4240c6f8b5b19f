"""The send pipeline: the only implementation of sending a message, for one or many.

Every door sends through :func:`check_send_messages`: the WebSocket's group commit
(:mod:`.batcher`) with the sends of every local socket, the REST API and the HTML form
with one (:func:`check_send_message`, a batch of one). Each request passes the checks of
:mod:`.send_checks`; the admitted ones are stored together by :func:`_store`, where each
step of storing is written once: a ``client_id`` stored before answers with the stored
message, one ``UPDATE`` per room allocates a block of numbers (an archived room refuses),
one ``INSERT`` stores every message, the senders' read markers move and new senders become
participants (:func:`.reads.do_mark_sent`), and one commit makes them all durable. Events
and signals go out after that commit, and only then are the results returned (the
WebSocket ``ack``, the API's answer).

Why batches: with one transaction per message, PostgreSQL spends most of each send
waiting for its commit (WAL flush) while the room row stays locked, which caps a room and
a process at a few hundred messages per second.

Per-request results are isolated: a request that fails a check gets its error and the
others are stored; if the batch's transaction fails (a concurrent retry of the same
``client_id`` won the race, a database error) every request is stored alone
(:func:`do_send_message`), so one bad message never takes others down with it, nor
acknowledges them falsely.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from smartcampus_chat import signals
from smartcampus_chat.domain.polls import PollSpec
from smartcampus_chat.exceptions import RoomArchived, ValidationFailed
from smartcampus_chat.infra.outages import is_unavailable
from smartcampus_chat.models import ChatAttachment, ChatMessage, ChatRoom, MessageKind
from smartcampus_chat.protocol.frames import MessageNew
from smartcampus_chat.protocol.payloads import Schema, UserRef
from smartcampus_chat.protocol.render import message_data, user_ref
from smartcampus_chat.realtime import events
from smartcampus_chat.services import (
    announcements,
    attachments,
    link_previews,
    mentions,
    notifications,
    polls,
    question_updates,
    sql,
)
from smartcampus_chat.services.messages import SendResult
from smartcampus_chat.services.reads import do_mark_sent
from smartcampus_chat.services.send_checks import (
    Admitted,
    SendRequest,
    admit,
    no_such_parent,
)

__all__ = [
    "SendRequest",
    "check_send_message",
    "check_send_messages",
    "do_post_system_message",
    "do_send_message",
]

logger = logging.getLogger(__name__)

#: A numbered message to store: the request, its seq and its event_seq.
_Numbered = tuple[Admitted, int, int]


def check_send_messages(requests: list[SendRequest]) -> list[SendResult | Exception]:
    """Check and store ``requests``; one result (or the error) per request, in order."""
    results: list[SendResult | Exception | None] = [None] * len(requests)
    valid = admit(requests, results)
    if valid:
        try:
            for index, result in _store(valid).items():
                results[index] = result
        except Exception as exc:
            # The batch rolled back (with its events): a concurrent writer stored one of
            # these client ids first (IntegrityError), one message upset the database, or
            # the database is out of reach (then each fails alone too, with its own error).
            if len(valid) == 1 and not isinstance(exc, IntegrityError):
                results[valid[0].index] = exc  # Alone already: the error is its own.
            else:
                _log_failed_batch(len(valid), exc)
                # Store each alone: a retry finds its message, errors stay with their own.
                for item in valid:
                    results[item.index] = _store_alone(item)
    return [result for result in results if result is not None]


def check_send_message(
    user: Any,
    room: ChatRoom,
    content: Any,
    *,
    client_id: Any = None,
    reply_to: Any = None,
    access: Any = None,
    attachments: Any = None,
    announcement: Any = None,
    requires_ack: Any = None,
    ack_due: Any = None,
    anonymous: Any = None,
    poll: Any = None,
) -> SendResult:
    """Send one message: a batch of one (:func:`check_send_messages`). Raises its error
    (a :class:`~smartcampus_chat.exceptions.ChatError` when a check refused it).

    ``access``: the user's :class:`~smartcampus_chat.domain.policies.RoomAccess` to the
    room, when the caller decided it already. ``attachments``: ids of the sender's
    uploads in the room (:mod:`.attachments`). ``announcement``, ``requires_ack``,
    ``ack_due``: post it as an announcement (docs/announcements.md). ``anonymous``: to
    classmates (docs/anonymous-posts.md). ``poll``: post it as a poll, its text the
    question (docs/polls.md).
    """
    request = SendRequest(
        user,
        room,
        content,
        client_id,
        reply_to,
        access,
        attachments,
        announcement=announcement,
        requires_ack=requires_ack,
        ack_due=ack_due,
        anonymous=anonymous,
        poll=poll,
    )
    (result,) = check_send_messages([request])
    return _raised(result)


def do_send_message(
    user: Any,
    room: ChatRoom,
    content: str,
    *,
    client_id: str = "",
    reply_to: ChatMessage | None = None,
    refuse_archived: bool = False,
    uploads: list[ChatAttachment] | None = None,
    kind: str = MessageKind.USER,
    requires_ack: bool = False,
    ack_due: datetime | None = None,
    anonymous: bool = False,
    poll: PollSpec | None = None,
) -> SendResult:
    """Store one message without checks (fixtures, admin tools, and each send of a failed
    batch): :func:`_store` for a batch of one. ``refuse_archived``: raise ``RoomArchived``
    if the room is archived when the message is numbered (the checked paths pass it).

    It inserts with Django's own statement, not the batch's hand-written one: a send
    retried after a failed batch does not meet again what may have failed it.
    """
    mentionable = mentions.resolve_unchecked(user, room, content)
    item = Admitted(
        0,
        user,
        room,
        content,
        client_id,
        reply_to,
        kind=kind,
        mentionable=mentionable,
        attachments=uploads or [],
        requires_ack=requires_ack,
        ack_due=ack_due,
        anonymous=anonymous,
        poll=poll,
    )
    try:
        return _raised(_store([item], refuse_archived=refuse_archived, plain=True)[0])
    except IntegrityError:
        # A concurrent writer committed first: a send of this client id, or a join of the
        # sender (their participant row). The retry finds them.
        return _raised(_store([item], refuse_archived=refuse_archived, plain=True)[0])


def do_post_system_message(room: ChatRoom, content: str) -> SendResult:
    """Store ``content`` (cleaned) in ``room`` as a system message: no sender, no client
    id, the same numbering, events and signals as any send. Raises ``RoomArchived`` when
    the room is archived."""
    item = Admitted(0, None, room, content, "", None, kind=MessageKind.SYSTEM)
    return _raised(_store([item], refuse_archived=True, plain=True)[0])


def _raised(result: SendResult | Exception) -> SendResult:
    if isinstance(result, Exception):
        raise result
    return result


def _log_failed_batch(size: int, exc: Exception) -> None:
    if is_unavailable(exc):
        logger.warning("A batch of %d sends failed: %r", size, exc)
    elif not isinstance(exc, IntegrityError):
        logger.warning("A batch of %d sends failed; storing them one by one", size, exc_info=True)


def _store_alone(item: Admitted) -> SendResult | Exception:
    try:
        return do_send_message(
            item.user,
            item.room,
            item.content,
            client_id=item.client_id,
            reply_to=item.reply_to,
            refuse_archived=True,
            uploads=item.attachments,
            kind=item.kind,
            requires_ack=item.requires_ack,
            ack_due=item.ack_due,
            anonymous=item.anonymous,
            poll=item.poll,
        )
    except Exception as exc:
        return exc


def _store(
    items: list[Admitted], *, refuse_archived: bool = True, plain: bool = False
) -> dict[int, SendResult | Exception]:
    """Store ``items`` in one transaction; the results by request index.

    A room archived since its senders' access was decided refuses their sends here, from
    the room's row as locked for numbering (no query more): a socket's cached room or
    access never lets a message into a read-only room. ``plain``: insert with the ORM
    (:func:`_insert_rows`) on every database.
    """
    results: dict[int, SendResult | Exception] = {}
    now = timezone.now()
    with transaction.atomic():
        fresh, repeats = _drop_known_client_ids(items, results)
        fresh = _drop_vanished_parents(fresh, results)
        by_room: dict[int, list[Admitted]] = defaultdict(list)
        for item in fresh:
            by_room[item.room.pk].append(item)
        numbered: list[_Numbered] = []
        counts = {room_id: len(group) for room_id, group in by_room.items()}
        numbers = _allocate(counts, now, refuse_archived=refuse_archived)
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
                item.room.last_seq, item.room.last_event_seq = seq, event_seq
        messages, moved = _insert_rows(numbered, now) if plain else _insert(numbered, now)
        # An anonymous post neither moves its author's read marker nor makes them a
        # participant ("joined", "seen by" at the instant it appears would name them).
        senders = [
            (item, message)
            for item, message in messages
            if item.user is not None and not item.anonymous
        ]
        last = {(item.room.pk, item.user.pk): (item, message.seq) for item, message in senders}
        do_mark_sent([(item.room, item.user, seq) for item, seq in last.values()], moved)
        attachments.do_attach(
            [(message, item.attachments) for item, message in messages if item.attachments]
        )
        polls.do_create_polls([(message, item.poll) for item, message in messages if item.poll])
        mentions.do_store_mentions(
            [
                (message, item.mentionable, item.user)
                for item, message in messages
                if item.mentionable
            ]
        )
        refs: dict[Any, UserRef] = {}
        frames: list[tuple[int, Schema]] = []
        for item, message in messages:
            ref = None
            if item.user is not None:
                ref = refs.get(item.user.pk)
                if ref is None:
                    ref = refs[item.user.pk] = user_ref(item.user)
            data = message_data(message, room_slug=item.room.slug, sender=ref)
            frames.append((item.room.pk, MessageNew(message=data)))
            results[item.index] = SendResult(message, created=True, data=data)
        events.publish_many_to_rooms(frames)
        link_previews.do_plan([message for _, message in messages])
        notifications.after_commit(
            [
                notifications.Notable(
                    message,
                    item.room,
                    item.user,
                    frozenset(mentions.mentioned_ids(item.mentionable)),
                    item.mentionable.everyone,
                )
                for item, message in messages
                if item.user is not None
            ]
        )
        announcements.after_commit([message for _, message in messages if message.requires_ack])
        question_updates.after_send((item.room, message) for item, message in messages)
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


_Inserted = tuple[list[tuple[Admitted, ChatMessage]], set[tuple[int, Any]] | None]


def _new_message(item: Admitted, seq: int, event_seq: int, now: Any) -> ChatMessage:
    message = ChatMessage(
        room=item.room,
        sender=item.user,
        kind=item.kind,
        content=item.content,
        content_html=item.content_html,
        created_at=now,
        seq=seq,
        event_seq=event_seq,
        client_id=item.client_id,
        reply_to=item.reply_to,
        requires_ack=item.requires_ack,
        ack_due=item.ack_due,
        anonymous=item.anonymous,
    )
    message.reaction_rows = []  # type: ignore[attr-defined]  # a new message has none
    message.attachment_rows = []  # type: ignore[attr-defined]  # until do_attach binds some
    link_previews.mark_none(message)  # fetched after commit, if it has a link
    polls.mark_none(message)  # until do_create_polls binds one
    return message


def _messages(numbered: list[_Numbered], now: Any) -> list[tuple[Admitted, ChatMessage]]:
    return [(item, _new_message(item, seq, event_seq, now)) for item, seq, event_seq in numbered]


def _insert_rows(numbered: list[_Numbered], now: Any) -> _Inserted:
    """Insert the numbered messages with ``bulk_create`` (markers not moved: None)."""
    messages = _messages(numbered, now)
    if messages:
        ChatMessage.objects.bulk_create([message for _, message in messages])
    return messages, None


def _insert(numbered: list[_Numbered], now: Any) -> _Inserted:
    """Insert the numbered messages; each with its stored message (primary key set).

    On PostgreSQL the senders' read markers move in the same statement: the (room, sender)
    pairs that had a participant row come back too (None elsewhere: not moved yet).
    """
    if connection.vendor != "postgresql" or not numbered:
        return _insert_rows(numbered, now)
    if any(item.kind != MessageKind.USER for item, _, _ in numbered):
        return _insert_rows(numbered, now)  # The statement writes user messages only.
    messages = _messages(numbered, now)
    rows = [
        (
            item.room.pk,
            item.user.pk,
            item.content,
            item.content_html,
            seq,
            event_seq,
            item.client_id,
            item.reply_to.pk if item.reply_to is not None else None,
            item.anonymous,
        )
        for item, seq, event_seq in numbered
    ]
    ids, present = sql.insert_messages(rows, now)
    for item, message in messages:
        message.pk = ids[(item.room.pk, message.seq)]
        message._state.adding = False
        message._state.db = connection.alias
    return messages, present


def known_messages(keys: list[tuple[int, Any, str]]) -> QuerySet[ChatMessage]:
    """The stored messages of the (room, sender, client id) ``keys``, with their senders
    (none for a key not stored)."""
    if connection.vendor == "postgresql":
        # Only the ids found, by primary key: no predicate left for the planner to
        # misjudge (sql.known_message_ids).
        candidates = ChatMessage.objects.filter(pk__in=sql.known_message_ids(keys))
    else:
        # A superset of the keys, through the unique index, with three IN lists: cheaper
        # to build and to plan than an OR per key.
        rooms, senders, client_ids = (set(column) for column in zip(*keys, strict=True))
        candidates = ChatMessage.objects.filter(
            room_id__in=rooms, sender_id__in=senders, client_id__in=client_ids
        ).exclude(client_id="")
    # Not ``shown()``: its joins cost this look-up (every send with a client id) ~0.7 ms of
    # planning on PostgreSQL; a retry found here reads its reply and reactions on render.
    return candidates.select_related("sender").order_by()


def _drop_known_client_ids(
    items: list[Admitted], results: dict[int, SendResult | Exception]
) -> tuple[list[Admitted], list[tuple[int, int]]]:
    """Split retries from new sends.

    A ``client_id`` already stored is answered with the stored message (in ``results``);
    one repeated within the batch is answered with its first occurrence's message once
    stored: those come back as (repeat's index, first's index). The rest, to store.
    """
    keyed = [(item.room.pk, item.user.pk, item.client_id) for item in items if item.client_id]
    known: dict[tuple[int, Any, str], ChatMessage] = {}
    if keyed:
        for message in known_messages(keyed):
            known[(message.room_id, message.sender_id, message.client_id)] = message
    fresh: list[Admitted] = []
    first_in_batch: dict[tuple[int, Any, str], int] = {}
    repeats: list[tuple[int, int]] = []
    for item in items:
        if not item.client_id:  # No retry to recognise (system messages have no sender).
            fresh.append(item)
            continue
        key = (item.room.pk, item.user.pk, item.client_id)
        if key in known:
            results[item.index] = SendResult(known[key], created=False)
        elif key in first_in_batch:
            repeats.append((item.index, first_in_batch[key]))
        else:
            first_in_batch[key] = item.index
            fresh.append(item)
    return fresh, repeats


def _drop_vanished_parents(
    items: list[Admitted], results: dict[int, SendResult | Exception]
) -> list[Admitted]:
    """Replies whose message is still there, locked for the transaction (before the
    rooms: a purge holds a message's lock, never a room's); those whose message was
    deleted since it was checked (a retention purge) get the error a reply to a message
    that is not there gets, before any number is taken."""
    ids = {item.reply_to.pk for item in items if item.reply_to is not None}
    if not ids:
        return items
    if connection.vendor == "postgresql":
        present = sql.lock_messages_key_share(sorted(ids))
    else:  # One writer at a time: a plain read sees what the insert will.
        present = set(ChatMessage.objects.filter(pk__in=ids).values_list("pk", flat=True))
    kept = []
    for item in items:
        if item.reply_to is not None and item.reply_to.pk not in present:
            results[item.index] = ValidationFailed(fields={"reply_to": [no_such_parent()]})
        else:
            kept.append(item)
    return kept


def _allocate(
    counts: dict[int, int], now: Any, *, refuse_archived: bool
) -> dict[int, tuple[int, int]]:
    """Take ``counts[room_id]`` message and change numbers of each room; the last of each.
    With ``refuse_archived``, archived rooms are left alone and absent from the result.

    The rooms' rows stay locked until commit, locked in id order so that two batches (or a
    batch and an edit) sharing rooms queue instead of deadlocking. On PostgreSQL one
    statement whatever the number of rooms; elsewhere two per room.
    """
    if not counts:
        return {}
    if connection.vendor == "postgresql":
        return sql.number_rooms(counts, now, refuse_archived=refuse_archived)
    numbers = {}
    for room_id in sorted(counts):
        rows = ChatRoom.objects.filter(pk=room_id)
        if refuse_archived:
            rows = rows.filter(is_archived=False)
        updated = rows.update(
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
