"""The checks of a send, each written once, for a batch of any size (:mod:`.batch`).

Every door's send passes them, in this order: content, client id, access (seeing the room,
the room not archived, posting), the send rate, the message replied to. A request that
fails one gets its error and the others go on; a rule added to sending (slow mode, a
mute, mentions, attachments) is added here, once, for the REST API, the HTML form and the
WebSocket alike. The rules sends share with edits (content, posting) live in
:mod:`.messages` and are looked up there at each call: changed there, changed for all.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from smartcampus_chat import markup, queries
from smartcampus_chat.domain.policies import RoomAccess, get_policy
from smartcampus_chat.domain.validation import is_object_id
from smartcampus_chat.exceptions import ChatError, RateLimited, ValidationFailed
from smartcampus_chat.infra import ratelimit
from smartcampus_chat.markup import NOBODY, Mentionable
from smartcampus_chat.models import ChatAttachment, ChatMessage, ChatRoom, MessageKind
from smartcampus_chat.services import attachments, mentions, messages


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
    for index, request in enumerate(requests):
        try:
            ids = attachments.clean_ids(request.attachments)
            content = messages.clean_content(request.content, allow_empty=bool(ids))
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
        valid.append(
            Admitted(
                index,
                request.user,
                request.room,
                content,
                client_id,
                parent,
                mentionable=mentionable,
                attachments=files,
            )
        )
    return valid


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
            results[index] = ValidationFailed(
                fields={"reply_to": [_("No such message in this room.")]}
            )
    return found
