"""Polls (docs/polls.md): a reader's own choices, and a poll's message for a reader."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from smartcampus_chat.domain.policies import RoomAccess
from smartcampus_chat.exceptions import MessageGone, NotFound
from smartcampus_chat.models import ChatMessage, ChatPollVote
from smartcampus_chat.protocol.render import poll_of
from smartcampus_chat.queries.rooms import message_in_room


def with_my_votes(messages: Iterable[ChatMessage], user: Any) -> None:
    """Bind ``user``'s own choice to each poll of ``messages`` (``my_poll_votes``, read by
    the renderer as ``poll.my_votes``): one query when there is a poll, none otherwise.
    The polls must be loaded (``ChatMessage.objects.shown()`` joins them)."""
    polls = [poll for poll in map(poll_of, messages) if poll is not None]
    if not polls:
        return
    mine: dict[int, list[int]] = {poll.pk: [] for poll in polls}
    if getattr(user, "is_authenticated", False):
        rows = (
            ChatPollVote.objects.filter(poll_id__in=list(mine), user=user)
            .order_by("option__position")
            .values_list("poll_id", "option_id")
        )
        for poll_id, option_id in rows:
            mine[poll_id].append(option_id)
    for poll in polls:
        poll.my_poll_votes = mine[poll.pk]


def poll_message(user: Any, slug: str, message_id: Any) -> tuple[ChatMessage, RoomAccess]:
    """The poll ``message_id`` of room ``slug`` as ``user`` may see it, with their own
    choice bound (NotFound: no such message there, not theirs to see, or not a poll;
    MessageGone once deleted: a deleted poll shows nothing)."""
    message, access = message_in_room(user, slug, message_id)
    if poll_of(message) is None:
        raise NotFound()
    if message.is_deleted:
        raise MessageGone()
    with_my_votes([message], user)
    return message, access
