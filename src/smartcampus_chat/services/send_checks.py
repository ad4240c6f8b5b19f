"""The checks of a send, each written once, for a batch of any size (:mod:`.batch`).

Every door's send passes them, in this order: content, client id, access (seeing the room,
the room not archived, posting), the send rate, slow mode, the word filter, the message
replied to. A request that
fails one gets its error and the others go on; a rule added to sending (slow mode, a
mute, mentions, attachments) is added here, once, for the REST API, the HTML form and the
WebSocket alike. The rules sends share with edits (content, posting) live in
:mod:`.messages` and are looked up there at each call: changed there, changed for all.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _

from smartcampus_chat import markup, queries
from smartcampus_chat.conf import app_settings
from smartcampus_chat.domain.announcements import AnnouncementOptions, clean_options
from smartcampus_chat.domain.anonymity import clean_anonymous
from smartcampus_chat.domain.policies import RoomAccess, get_policy
from smartcampus_chat.domain.polls import PollSpec, clean_poll
from smartcampus_chat.domain.validation import is_object_id
from smartcampus_chat.exceptions import (
    AnnouncementNotAllowed,
    AnonymousNotAllowed,
    BlockedContent,
    ChatError,
    HeldForReview,
    PollNotAllowed,
    RateLimited,
    SlowMode,
    ValidationFailed,
)
from smartcampus_chat.infra import ratelimit
from smartcampus_chat.markup import NOBODY, Mentionable
from smartcampus_chat.models import ChatAttachment, ChatMessage, ChatRoom, MessageKind
from smartcampus_chat.services import attachments, held, mentions, messages


@dataclass(frozen=True)
class SendRequest:
    """One send: the arguments of :func:`.batch.check_send_message`. ``access``: the
    sender's access to the room when the door decided it already (asked of the policy
    otherwise)."""

    user: Any
    room: ChatRoom
    content: Any
    client_id: Any = None
    reply_to: Any = None
    access: RoomAccess | None = None
    #: Ids of the sender's uploads in the room to send with the message (None: none).
    attachments: Any = None
    #: Post it as an announcement (the room's moderators: ``can_announce``), maybe asking
    #: its members to acknowledge it (``requires_ack``) by ``ack_due``
    #: (:mod:`smartcampus_chat.domain.announcements`).
    announcement: Any = None
    requires_ack: Any = None
    ack_due: Any = None
    #: Post it anonymously to classmates (``can_post_anonymously``; docs/anonymous-posts.md).
    anonymous: Any = None
    #: Post it as a poll (:func:`smartcampus_chat.domain.polls.clean_poll`: options,
    #: multiple, anonymous, closes_at); its text is the question (``can_create_poll``).
    poll: Any = None


@dataclass
class Admitted:
    """A request that passed every check, cleaned: what the store takes (``index``: the
    request's place in its batch). A system message has no ``user``."""

    index: int
    user: Any
    room: ChatRoom
    content: str
    client_id: str
    reply_to: ChatMessage | None
    kind: str = MessageKind.USER
    #: Whom the message mentions (:func:`.mentions.check_mentions`): marked when rendered.
    mentionable: Mentionable = NOBODY
    #: The uploads sent with it, in order (:func:`.attachments.check_attachments`).
    attachments: list[ChatAttachment] = field(default_factory=list)
    #: An announcement's: to be acknowledged by its members, by ``ack_due``.
    requires_ack: bool = False
    ack_due: datetime | None = None
    #: Shown to the room without its author (``ChatMessage.anonymous``).
    anonymous: bool = False
    #: A poll's options and settings (None: not a poll).
    poll: PollSpec | None = None
    #: ``content`` as HTML, rendered once here, before the store's transaction.
    content_html: str = field(init=False)

    def __post_init__(self) -> None:
        self.content_html = markup.render(self.content, self.mentionable)


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


def admit(requests: list[SendRequest], results: list[Any]) -> list[Admitted]:
    """Check each request, in its order: content and attachment ids, client id, access,
    rate limit, reply, mentions, attachments. Errors go to ``results``; the admitted
    requests come back. Queries: one for the accesses not given, one for the replies, two
    for the mentions, one for the attachments (none without)."""
    cleaned: list[tuple[int, SendRequest, str, str]] = []
    upload_ids: dict[int, list[int]] = {}
    options: dict[int, AnnouncementOptions] = {}
    anonymous: set[int] = set()
    polls: dict[int, PollSpec | None] = {}
    for index, request in enumerate(requests):
        try:
            ids = attachments.clean_ids(request.attachments)
            content = messages.clean_content(request.content, allow_empty=bool(ids))
            options[index] = clean_options(
                request.announcement, request.requires_ack, request.ack_due
            )
            if clean_anonymous(request.anonymous):
                anonymous.add(index)
            polls[index] = clean_poll(request.poll)
            cleaned.append((index, request, content, messages.clean_client_id(request.client_id)))
            upload_ids[index] = ids
        except ChatError as exc:
            results[index] = exc
    accesses = _accesses([(index, request) for index, request, _, _ in cleaned])

    def access_of(request: SendRequest) -> RoomAccess:
        return request.access or accesses[(request.user.pk, request.room.pk)]

    allowed: list[tuple[int, SendRequest, str, str]] = []
    for item in cleaned:
        index, request = item[0], item[1]
        access = access_of(request)
        try:
            messages.check_can_post(access, request.room)
            if options[index].announcement and not get_policy().can_announce(
                request.user, access, request.room
            ):
                raise AnnouncementNotAllowed()
            if index in anonymous and (
                options[index].announcement
                # A poll names who closes it and is its author's to close: never anonymous.
                or polls[index] is not None
                or not get_policy().can_post_anonymously(request.user, access, request.room)
            ):
                raise AnonymousNotAllowed()
            if polls[index] is not None and not get_policy().can_create_poll(
                request.user, access, request.room
            ):
                raise PollNotAllowed()
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
    admitted = _slow_mode(admitted, access_of, results)
    admitted, to_hold = _word_filter(admitted, results)
    parents = _parents(admitted, results)
    admitted = [item for item in admitted if results[item[0]] is None]
    mentioned = mentions.check_mentions(
        [(request.room, content, access_of(request)) for _, request, content, _ in admitted]
    )
    with_files = [item for item in admitted if upload_ids[item[0]]]
    uploads = dict(
        zip(
            [item[0] for item in with_files],
            attachments.check_attachments(
                [(r.user, r.room, client, upload_ids[i]) for i, r, _, client in with_files]
            ),
            strict=True,
        )
    )
    valid: list[Admitted] = []
    for (index, request, content, client_id), mentionable in zip(admitted, mentioned, strict=True):
        if isinstance(mentionable, ChatError):
            results[index] = mentionable
            continue
        files = uploads.get(index, [])
        if isinstance(files, ChatError):
            results[index] = files
            continue
        parent = parents.get(request.reply_to) if request.reply_to is not None else None
        if index in to_hold and index in anonymous:
            # The review queue would name the author to the moderators (and approving would
            # post it under their name): an anonymous post the filter would hold is refused.
            results[index] = BlockedContent()
            continue
        if index in to_hold:
            # Held (the blocked ones were refused above): checked in full first, so that
            # what a moderator approves is a send that was valid, with its reply and files.
            held.do_hold_message(
                request.user, request.room, content, reply_to=parent, uploads=files
            )
            results[index] = HeldForReview()
            continue
        option = options[index]
        valid.append(
            Admitted(
                index,
                request.user,
                request.room,
                content,
                client_id,
                parent,
                kind=MessageKind.ANNOUNCEMENT if option.announcement else MessageKind.USER,
                mentionable=mentionable,
                attachments=files,
                requires_ack=option.requires_ack,
                ack_due=option.ack_due,
                anonymous=index in anonymous,
                poll=polls[index],
            )
        )
    return valid


def _slow_mode(
    admitted: list[tuple[int, SendRequest, str, str]],
    access_of: Callable[[SendRequest], RoomAccess],
    results: list[Any],
) -> list[tuple[int, SendRequest, str, str]]:
    """A room's slow mode: one message per ``slow_mode_seconds`` per member (the room's
    moderators exempt), one bucket of one token per member and room; no cache call for
    a batch without a slow room."""
    policy = get_policy()
    slow: dict[int, list[int]] = defaultdict(list)
    for position, (_index, request, _content, _client) in enumerate(admitted):
        seconds = request.room.slow_mode_seconds
        if seconds and not policy.is_exempt_from_slow_mode(access_of(request)):
            slow[seconds].append(position)
    refused: set[int] = set()
    for seconds, positions in slow.items():
        counts: dict[str, int] = defaultdict(int)
        for position in positions:
            request = admitted[position][1]
            counts[f"{request.room.pk}:{request.user.pk}"] += 1
        waits = ratelimit.take_each(ratelimit.Bucket("slow", 1, 1 / seconds), counts)
        taken: dict[str, int] = defaultdict(int)
        for position in positions:
            request = admitted[position][1]
            key = f"{request.room.pk}:{request.user.pk}"
            wait = waits[key][taken[key]]
            taken[key] += 1
            if wait:
                results[admitted[position][0]] = SlowMode(retry_after=wait)
                refused.add(position)
    return [item for position, item in enumerate(admitted) if position not in refused]


def check_word_filter(room: ChatRoom, content: str) -> bool:
    """Whether ``content`` passes the site's and ``room``'s word filter: True if it
    does; raises ``blocked_content`` if not and the filter blocks; False if it holds."""
    if not messages.is_filtered(room, content):
        return True
    if app_settings.WORD_FILTER_ACTION == "hold":
        return False
    raise BlockedContent()


def _word_filter(
    admitted: list[tuple[int, SendRequest, str, str]], results: list[Any]
) -> tuple[list[tuple[int, SendRequest, str, str]], set[int]]:
    """The word filter (:mod:`smartcampus_chat.domain.word_filter`): a send with a
    filtered word is refused (``blocked_content``), or, when the filter holds, marked to
    be held (the indexes returned) once every other check passed (:func:`admit`): stored
    in the moderators' queue with its reply and files (``held_for_review``), not as a
    message."""
    passed, to_hold = [], set()
    for item in admitted:
        index, request, content, _client_id = item
        try:
            if not check_word_filter(request.room, content):
                to_hold.add(index)
        except ChatError as exc:
            results[index] = exc
            continue
        passed.append(item)
    return passed, to_hold


def no_such_parent() -> str:
    """The error of a reply to a message that is not in the room (or not any more)."""
    return _("No such message in this room.")


def _parents(
    admitted: list[tuple[int, SendRequest, str, str]], results: list[Any]
) -> dict[Any, ChatMessage]:
    """The messages replied to, in one query; bad replies get their error in ``results``."""
    replies = [
        (index, request) for index, request, _, _ in admitted if request.reply_to is not None
    ]
    ids = {request.reply_to for _, request in replies if is_object_id(request.reply_to)}
    found = ChatMessage.objects.select_related("sender").in_bulk(list(ids)) if ids else {}
    for index, request in replies:
        if not is_object_id(request.reply_to):
            results[index] = ValidationFailed(fields={"reply_to": [_("Must be a message id.")]})
        elif request.reply_to not in found or found[request.reply_to].room_id != request.room.pk:
            results[index] = ValidationFailed(fields={"reply_to": [no_such_parent()]})
    return found
