"""Who a message's @mentions name (resolved before it is rendered), who a composer may
mention (autocomplete), and the mention counts of a user's rooms."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Lower

from smartcampus_chat.domain.names import display_name, login_is_email, username_is_public
from smartcampus_chat.domain.policies import RoomAccess, get_policy
from smartcampus_chat.markup import NOBODY, Mentionable, MentionRefs
from smartcampus_chat.markup.mentions import is_mention_name
from smartcampus_chat.models import ChatMention, ChatMessage, ChatParticipant, ChatRoom
from smartcampus_chat.queries.members import participant_rows
from smartcampus_chat.queries.people import people_search_fields

#: People an autocomplete answers at most.
CANDIDATES_LIMIT = 8


def names_mentionable() -> bool:
    """Whether ``@username`` names people: the login identifier may be shown, or is not an
    e-mail address (else mentions use the ``@**Name|id**`` form only)."""
    return username_is_public() or not login_is_email()


def _people(refs: Sequence[MentionRefs]) -> dict[str | int, Any]:
    """{lower-cased username or id: user} of every reference in ``refs`` (one query)."""
    names = set().union(*(r.names for r in refs)) if names_mentionable() else set()
    ids = set().union(*(r.ids for r in refs))
    if not names and not ids:
        return {}
    user_model = get_user_model()
    field = user_model.USERNAME_FIELD
    found = user_model._default_manager.annotate(_mention_name=Lower(field)).filter(
        Q(_mention_name__in=names) | Q(pk__in=ids)
    )
    if any(f.name == "is_active" for f in user_model._meta.get_fields()):
        found = found.filter(is_active=True)
    people: dict[str | int, Any] = {}
    for person in found:
        people[person.pk] = person
        if person._mention_name in names:
            # Two accounts differing by case only: the exact spelling wins, else the first.
            people.setdefault(person._mention_name, person)
    return people


def resolve_mentions(
    requests: Sequence[tuple[ChatRoom, MentionRefs, RoomAccess]],
) -> list[Mentionable]:
    """For each (room, refs, the author's access): whom the renderer may mark, the people
    named who can see the room, and ``@everyone`` when the author may use it. Two queries
    for any number of requests (users, participant rows), none without mentions; the
    policy may ask more of a candidate it cannot decide from their row (group, course)."""
    people = _people([refs for _, refs, _ in requests])
    wanted = {
        (person.pk, room.pk)
        for room, refs, _ in requests
        for key in refs.people()
        if (person := people.get(key)) is not None
    }
    rows = participant_rows(wanted)
    policy = get_policy()
    resolved: list[Mentionable] = []
    for room, refs, access in requests:
        if not refs:
            resolved.append(NOBODY)
            continue
        marked: dict[str | int, tuple[int, str]] = {}
        for key in refs.people():
            person = people.get(key)
            if person is None:
                continue
            if policy.access(person, room, rows.get((person.pk, room.pk))).can_see:
                marked[key] = (person.pk, display_name(person))
        everyone = refs.everyone and policy.can_mention_everyone(access, room)
        resolved.append(Mentionable(marked, everyone=everyone))
    return resolved


@dataclass(frozen=True)
class Candidate:
    """One autocomplete answer: the text to insert and what to show."""

    id: int | None
    name: str
    insert: str


def mention_candidates(room: ChatRoom, access: RoomAccess, search: str) -> list[Candidate]:
    """Members of ``room`` whose name (or username, where it names people) starts a word
    with ``search``, then ``@everyone`` when ``access`` may use it (one query)."""
    field = get_user_model().USERNAME_FIELD
    match = Q()
    for name in people_search_fields():
        match |= Q(**{f"user__{name}__istartswith": search})
    members = (
        ChatParticipant.objects.filter(room=room, is_banned=False)
        .filter(match if search else Q())
        .select_related("user")
        .order_by(f"user__{field}")[:CANDIDATES_LIMIT]
    )
    found: list[Candidate] = []
    for member in members:
        person = member.user
        shown = display_name(person)
        insert = (
            f"@{person.get_username()}"
            if names_mentionable() and is_mention_name(person.get_username())
            else f"@**{shown}|{person.pk}**"
        )
        found.append(Candidate(person.pk, shown, insert))
    if get_policy().can_mention_everyone(access, room):
        found.extend(
            Candidate(None, f"@{word}", f"@{word}")
            for word in ("everyone", "room")
            if word.startswith(search.lower())
        )
    return found


def mentioning_me(user: Any) -> Q:
    """Messages that mention ``user`` or everyone (a filter of ``ChatMessage``)."""
    mine = ChatMention.objects.filter(message=OuterRef("pk")).filter(
        Q(user=user) | Q(user__isnull=True)
    )
    return Q(Exists(mine))


def unread_mentions(user: Any, room: ChatRoom, last_read_seq: int) -> int:
    """Others' undeleted messages after the read marker that mention ``user`` (or all)."""
    return (
        ChatMessage.objects.filter(room=room, seq__gt=last_read_seq, is_deleted=False)
        .exclude(sender=user)
        .filter(mentioning_me(user))
        .count()
    )
