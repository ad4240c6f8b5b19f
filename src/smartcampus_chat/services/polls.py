"""Polls (docs/polls.md): creating one's rows, voting, closing.

A poll is a message posted through the one send pipeline (:mod:`.batch`, the ``poll``
option of a send; who may: the policy's ``can_create_poll``): :func:`do_create_polls`
stores its options in the send's transaction.

- :func:`check_poll_vote` / :func:`do_poll_vote`: a person's choice replaces their earlier one
  (empty: withdrawn) until the poll closes. Under the room's row lock (the change number,
  as every writer of the room), the message's and the poll's: two votes of one person
  in a single-choice poll, however concurrent, leave one row.
- :func:`check_close_poll` / :func:`do_close_poll`: its author or a moderator closes it
  before its time; a poll past ``closes_at`` is closed without anyone doing it (read at
  each use: no job).

Each change bumps the message's ``event_seq`` (a client that missed it gets the message
again when it resumes) and publishes, after commit, ``poll.updated`` to the room (the
counts; who chose what unless the poll is anonymous) and ``poll.voted`` to the voter's own
sockets (their own choice, the only place an anonymous poll's choice is said).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from smartcampus_chat.domain.policies import RoomAccess, get_policy
from smartcampus_chat.domain.polls import PollSpec, clean_choice
from smartcampus_chat.exceptions import MessageGone, NotFound, PermissionDenied, PollClosed
from smartcampus_chat.infra import ratelimit
from smartcampus_chat.models import ChatMessage, ChatPoll, ChatPollOption, ChatPollVote
from smartcampus_chat.protocol.frames import PollUpdated, PollVoted
from smartcampus_chat.protocol.render import poll_data, poll_of
from smartcampus_chat.realtime import events
from smartcampus_chat.services.messages import (
    Unchanged,
    check_can_react,
    lock_message,
    next_event,
)


def mark_none(message: ChatMessage) -> None:
    """Tell the renderer a new message has no poll (no query to find out)."""
    ChatMessage.poll.related.set_cached_value(message, None)


def do_create_polls(pairs: Iterable[tuple[ChatMessage, PollSpec | None]]) -> None:
    """In the send's transaction: each new message's poll and options (two statements
    for the lot), bound to the message for its render."""
    made = [(message, spec) for message, spec in pairs if spec is not None]
    if not made:
        return
    rows = [
        ChatPoll(
            message=message,
            multiple=spec.multiple,
            anonymous=spec.anonymous,
            closes_at=spec.closes_at,
        )
        for message, spec in made
    ]
    ChatPoll.objects.bulk_create(rows)
    options = [
        ChatPollOption(poll=poll, position=position, text=text)
        for poll, (_message, spec) in zip(rows, made, strict=True)
        for position, text in enumerate(spec.options)
    ]
    ChatPollOption.objects.bulk_create(options)
    by_poll: dict[int, list[ChatPollOption]] = {}
    for option in options:
        by_poll.setdefault(option.poll_id, []).append(option)
    for poll, (message, _spec) in zip(rows, made, strict=True):
        poll.option_rows = by_poll[poll.pk]  # type: ignore[attr-defined]
        poll.vote_rows = []  # type: ignore[attr-defined]
        ChatMessage.poll.related.set_cached_value(message, poll)


@dataclass(frozen=True)
class VoteResult:
    message: ChatMessage
    #: The voter's choice now (option ids, in the poll's order; empty: no vote).
    option_ids: list[int]


def _poll(message: ChatMessage) -> ChatPoll:
    poll = poll_of(message)
    if poll is None:
        raise NotFound()
    return poll


def _option_ids(poll: ChatPoll) -> list[int]:
    rows = getattr(poll, "option_rows", None)
    if rows is None:
        return list(poll.options.order_by("position").values_list("pk", flat=True))
    return [row.pk for row in rows]


def check_poll_vote(
    user: Any, message: ChatMessage, option_ids: Any, access: RoomAccess
) -> VoteResult:
    """Set ``user``'s choice in the poll ``message`` to ``option_ids`` (empty: withdraw
    the vote): whoever may react (``can_vote``), while the poll is open."""
    poll = _poll(message)
    if message.is_deleted:
        raise MessageGone()
    check_can_react(access, message.room)
    if not get_policy().can_vote(user, access, message.room):
        raise PermissionDenied()
    chosen = clean_choice(option_ids, _option_ids(poll), multiple=poll.multiple)
    if poll.is_closed():
        raise PollClosed()
    ratelimit.check_send_rate(user)
    return do_poll_vote(user, message, chosen)


def _reload(message: ChatMessage, poll: ChatPoll) -> None:
    """The poll's options and votes as they are now, bound for the render."""
    poll.option_rows = list(poll.options.order_by("position"))  # type: ignore[attr-defined]
    poll.vote_rows = list(  # type: ignore[attr-defined]
        poll.votes.select_related("user").order_by("pk")
    )
    ChatMessage.poll.related.set_cached_value(message, poll)


def publish_poll(message: ChatMessage, poll: ChatPoll) -> None:
    """``poll.updated`` to the room (after commit): the poll's state as ``poll`` holds it
    (its options and votes bound by :func:`_reload`, or loaded by ``shown()``)."""
    events.publish_to_room(
        message.room_id,
        PollUpdated(
            room=message.room.slug,
            message_id=message.pk,
            event_seq=message.event_seq,
            poll=poll_data(poll),
        ),
    )


def do_poll_vote(user: Any, message: ChatMessage, chosen: list[int]) -> VoteResult:
    """Replace ``user``'s votes with ``chosen`` (valid option ids of the poll)."""
    try:
        with transaction.atomic():
            event_seq = next_event(message.room_id)
            lock_message(message)
            if message.is_deleted:
                raise MessageGone()
            poll = ChatPoll.objects.select_for_update().get(pk=message.pk)
            if poll.is_closed():
                raise PollClosed()
            mine = set(
                ChatPollVote.objects.filter(poll=poll, user=user).values_list(
                    "option_id", flat=True
                )
            )
            if mine == set(chosen):
                raise Unchanged
            gone = mine - set(chosen)
            if gone:
                ChatPollVote.objects.filter(poll=poll, user=user, option_id__in=gone).delete()
            now = timezone.now()
            ChatPollVote.objects.bulk_create(
                [
                    ChatPollVote(poll=poll, option_id=pk, user=user, voted_at=now)
                    for pk in chosen
                    if pk not in mine
                ]
            )
            message.event_seq = event_seq
            message.save(update_fields=["event_seq"])
            _reload(message, poll)
            publish_poll(message, poll)
            events.publish_to_user(
                user.pk,
                PollVoted(room=message.room.slug, message_id=message.pk, option_ids=chosen),
            )
    except Unchanged:
        pass  # Nothing changed: no number taken, no frame.
    return VoteResult(message, chosen)


def check_close_poll(user: Any, message: ChatMessage, access: RoomAccess) -> ChatMessage:
    """Close the poll ``message`` now: its author or a moderator (``can_close_poll``).
    Closing a closed poll changes nothing."""
    _poll(message)
    if message.is_deleted:
        raise MessageGone()
    if not get_policy().can_close_poll(user, access, message.room, message.sender_id):
        raise PermissionDenied()
    return do_close_poll(user, message)


def do_close_poll(user: Any, message: ChatMessage) -> ChatMessage:
    """Close the poll (``closed_at``: now, or its closing time if that has passed)."""
    try:
        with transaction.atomic():
            event_seq = next_event(message.room_id)
            lock_message(message)
            if message.is_deleted:
                raise MessageGone()
            poll = ChatPoll.objects.select_for_update().get(pk=message.pk)
            if poll.closed_at is not None:
                raise Unchanged
            now = timezone.now()
            closes_at = poll.closes_at
            poll.closed_at = closes_at if closes_at is not None and closes_at <= now else now
            poll.closed_by = user
            poll.save(update_fields=["closed_at", "closed_by"])
            message.event_seq = event_seq
            message.save(update_fields=["event_seq"])
            _reload(message, poll)
            publish_poll(message, poll)
    except Unchanged:
        _reload(message, ChatPoll.objects.get(pk=message.pk))
    return message
