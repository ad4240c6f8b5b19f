"""@mentions: checked and resolved before a message is rendered, stored beside it, told.

A send or an edit resolves whom its text mentions (:func:`check_mentions`: the limit,
``@everyone``'s rule, then :func:`smartcampus_chat.queries.resolve_mentions`), renders
with the result, and stores one :class:`~smartcampus_chat.models.ChatMention` row per
person marked (one row without a user for ``@everyone``) in the write's transaction. The
``users_mentioned`` signal names the people newly mentioned after commit: the
notifications listen to it. Counts ("2 mentions") are read from these rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db.models import Q

from smartcampus_chat import markup, queries, signals
from smartcampus_chat.conf import app_settings
from smartcampus_chat.domain.names import display_name
from smartcampus_chat.domain.policies import RoomAccess, get_policy
from smartcampus_chat.exceptions import ChatError, MentionNotAllowed, TooManyMentions
from smartcampus_chat.markup import NOBODY, Mentionable, MentionRefs
from smartcampus_chat.models import ChatMention, ChatMessage, ChatRoom
from smartcampus_chat.services import notifications


def mentioned_ids(mentionable: Mentionable) -> set[int]:
    """The people a message rendered with ``mentionable`` marks."""
    return {user_id for user_id, _name in mentionable.people.values()}


def check_mentions(
    requests: Sequence[tuple[ChatRoom, str, RoomAccess]],
) -> list[Mentionable | ChatError]:
    """For each (room, cleaned content, author's access): whom to mark, or why the message
    is refused (more than ``MAX_MENTIONS`` people named, ``@everyone`` not allowed)."""
    refs: list[MentionRefs] = [markup.mention_refs(content) for _, content, _ in requests]
    policy = get_policy()
    results: list[Mentionable | ChatError | None] = [None] * len(requests)
    wanted: list[tuple[int, tuple[ChatRoom, MentionRefs, RoomAccess]]] = []
    for index, ((room, _content, access), found) in enumerate(zip(requests, refs, strict=True)):
        if not found:
            results[index] = NOBODY
        elif len(found.people()) > app_settings.MAX_MENTIONS:
            results[index] = TooManyMentions()
        elif found.everyone and not policy.can_mention_everyone(access, room):
            results[index] = MentionNotAllowed()
        else:
            wanted.append((index, (room, found, access)))
    if wanted:
        resolved = queries.resolve_mentions([request for _, request in wanted])
        for (index, _request), mentionable in zip(wanted, resolved, strict=True):
            results[index] = mentionable
    return [result for result in results if result is not None]


def check_mentions_one(room: ChatRoom, content: str, access: RoomAccess) -> Mentionable:
    """:func:`check_mentions` of one message (its error raised)."""
    (result,) = check_mentions([(room, content, access)])
    if isinstance(result, ChatError):
        raise result
    return result


def resolve_unchecked(user: Any, room: ChatRoom, content: str) -> Mentionable:
    """Whom a message written without checks (fixtures, tools, a send stored alone after
    its batch failed) marks: no limit, ``@everyone`` only where ``user`` may use it."""
    refs = markup.mention_refs(content)
    if not refs:
        return NOBODY
    access = get_policy().access(user, room) if user is not None else RoomAccess()
    (result,) = queries.resolve_mentions([(room, refs, access)])
    return result


def rows_for(message: ChatMessage, mentionable: Mentionable) -> list[ChatMention]:
    """The mention rows of a message rendered with ``mentionable`` (not saved)."""
    rows = [ChatMention(message=message, user_id=pk) for pk in sorted(mentioned_ids(mentionable))]
    if mentionable.everyone:
        rows.append(ChatMention(message=message, user=None))
    return rows


def do_store_mentions(written: Sequence[tuple[ChatMessage, Mentionable, Any]]) -> None:
    """Store the mentions of new messages (message, mentionable, author), one insert in the
    caller's transaction, and tell ``users_mentioned`` after commit."""
    rows = [row for message, mentionable, _ in written for row in rows_for(message, mentionable)]
    if not rows:
        return
    ChatMention.objects.bulk_create(rows)
    for message, mentionable, author in written:
        _announce(message, author, mentioned_ids(mentionable), everyone=mentionable.everyone)


def do_replace_mentions(message: ChatMessage, mentionable: Mentionable, author: Any) -> set[int]:
    """An edited message's mentions become ``mentionable``'s, in the caller's transaction;
    the people newly mentioned are told (not those mentioned already). Returns the people
    whose mention came or went."""
    held = set(ChatMention.objects.filter(message=message).values_list("user_id", flat=True))
    wanted: set[int | None] = set(mentioned_ids(mentionable))
    if mentionable.everyone:
        wanted.add(None)
    gone, new = held - wanted, wanted - held
    if gone:
        stale = Q(user_id__in=[pk for pk in gone if pk is not None])
        if None in gone:
            stale |= Q(user__isnull=True)
        ChatMention.objects.filter(message=message).filter(stale).delete()
    ChatMention.objects.bulk_create([ChatMention(message=message, user_id=pk) for pk in new])
    people = {pk for pk in new if pk is not None}
    _announce(message, author, people, everyone=None in new)
    if (people or None in new) and author is not None:
        notifications.after_commit(
            [
                notifications.Notable(
                    message,
                    message.room,
                    author,
                    frozenset(people),
                    everyone=None in new,
                    only_mentions=True,
                )
            ]
        )
    return {pk for pk in new | gone if pk is not None}


def stored_mentionable(rows: Iterable[ChatMention]) -> Mentionable:
    """Whom a message marks, from its stored rows (with their users): to render it again
    the same way."""
    people: dict[str | int, tuple[int, str]] = {}
    everyone = False
    for row in rows:
        if row.user is None:
            everyone = True
            continue
        marked = (row.user.pk, display_name(row.user))
        people[row.user.pk] = marked
        people[str(row.user.get_username()).lower()] = marked
    return Mentionable(people, everyone=everyone)


def _announce(message: ChatMessage, author: Any, user_ids: set[int], *, everyone: bool) -> None:
    if author is not None:
        user_ids = user_ids - {author.pk}
    if not user_ids and not everyone:
        return
    signals.send_on_commit(
        signals.users_mentioned,
        ChatMessage,
        message=message,
        room=message.room,
        user=author,
        mentioned=sorted(user_ids),
        everyone=everyone,
    )
