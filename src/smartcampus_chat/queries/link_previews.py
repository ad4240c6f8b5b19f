"""Reading link previews: a preview's image for a reader of its message."""

from __future__ import annotations

from typing import Any

from smartcampus_chat.exceptions import NotFound
from smartcampus_chat.models import ChatLinkPreview, PreviewStatus
from smartcampus_chat.queries.rooms import message_for


def preview_image_for(user: Any, message_id: Any) -> ChatLinkPreview:
    """The preview of message ``message_id`` if ``user`` may read the message now and the
    preview shows an image (ready, not removed, message not deleted); else NotFound. Two
    queries: the message with its preview, the reader's access (``message_for``)."""
    message, _access = message_for(user, message_id)
    row: ChatLinkPreview | None = getattr(message, "link_preview", None)
    if (
        row is None
        or message.is_deleted
        or row.removed
        or row.status != PreviewStatus.READY
        or not row.image_storage_name
    ):
        raise NotFound()
    return row
