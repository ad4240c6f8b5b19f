"""Reading attachments: one file for its reader, a room's files (the gallery)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from smartcampus_chat.domain.policies import get_policy
from smartcampus_chat.domain.validation import is_object_id
from smartcampus_chat.exceptions import NotFound
from smartcampus_chat.models import AttachmentKind, ChatAttachment, ChatRoom


def attachment_for(user: Any, attachment_id: Any) -> ChatAttachment:
    """The attachment ``attachment_id`` if ``user`` may see it now (the policy's
    ``can_see_attachment``), else NotFound: a missing file and a hidden one look alike.
    Two queries: the attachment with its room and message, the reader's access."""
    if not is_object_id(attachment_id):
        raise NotFound()
    attachment = (
        ChatAttachment.objects.select_related("room", "message").filter(pk=attachment_id).first()
    )
    if attachment is None:
        raise NotFound()
    policy = get_policy()
    access = policy.access(user, attachment.room)
    if not policy.can_see_attachment(user, access, attachment):
        raise NotFound()
    return attachment


@dataclass(frozen=True)
class FilesPage:
    """A page of a room's files, newest first; ``before``: the cursor of the next page."""

    attachments: list[ChatAttachment]
    before: int | None


def room_attachments(
    room: ChatRoom, *, kind: str | None = None, before: int | None = None, limit: int = 50
) -> FilesPage:
    """The files sent in ``room`` in messages not deleted, newest first, ``limit`` at a
    time (keyset on the id, below ``before``); each with its message and sender. One
    query."""
    rows = ChatAttachment.objects.filter(
        room=room, message__isnull=False, message__is_deleted=False
    ).select_related("message", "message__sender")
    if kind in AttachmentKind.values:
        rows = rows.filter(kind=kind)
    if before is not None:
        rows = rows.filter(pk__lt=before)
    found = list(rows.order_by("-pk")[: limit + 1])
    more = len(found) > limit
    found = found[:limit]
    return FilesPage(found, found[-1].pk if more and found else None)
