"""A message and its files in one request: the HTML form without JavaScript (the browser
client uploads each file first, then sends; docs/attachments.md).

Each file passes :func:`.attachments.check_upload`; then the message is sent through the
send pipeline with them. If any step fails, the files already stored are withdrawn: the
request stores a message with all its files, or nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.files.uploadedfile import UploadedFile

from smartcampus_chat.conf import app_settings
from smartcampus_chat.domain.policies import RoomAccess
from smartcampus_chat.exceptions import TooManyAttachments
from smartcampus_chat.models import ChatAttachment, ChatRoom
from smartcampus_chat.services import attachments
from smartcampus_chat.services.batch import check_send_message
from smartcampus_chat.services.messages import SendResult


def check_send_with_files(
    user: Any,
    room: ChatRoom,
    access: RoomAccess,
    content: Any,
    files: Sequence[UploadedFile],
    *,
    client_id: Any = None,
    announcement: Any = None,
    requires_ack: Any = None,
    ack_due: Any = None,
    anonymous: Any = None,
) -> SendResult:
    """Upload ``files`` and send them with ``content`` (which may then be empty);
    ``announcement``, ``requires_ack``, ``ack_due``, ``anonymous``: as for any send
    (:mod:`.batch`)."""
    if len(files) > app_settings.ATTACHMENTS_PER_MESSAGE:
        raise TooManyAttachments()
    stored: list[ChatAttachment] = []
    try:
        for file in files:
            stored.append(attachments.check_upload(user, room, access, file))
        return check_send_message(
            user,
            room,
            content,
            client_id=client_id,
            access=access,
            attachments=[upload.pk for upload in stored] or None,
            announcement=announcement,
            requires_ack=requires_ack,
            ack_due=ack_due,
            anonymous=anonymous,
        )
    except BaseException:
        for upload in stored:
            attachments.do_withdraw_upload(upload)
        raise
