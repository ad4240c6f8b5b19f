"""Attachments: upload, withdraw an upload, attach to sends, purge.

A file is uploaded into a room first (:func:`check_upload`: one request per file, checked
and stored, private to its uploader), then sent: a send names its uploads
(``attachments``), :func:`check_attachments` admits them with the other checks of the
send pipeline, and :func:`do_attach` binds them to the new messages inside the send's
transaction, so a message and its files are stored together or not at all.

Every check of an upload runs before anything is written, in this order: the feature is
on, the uploader may post in the room, the upload rate, the size, the daily quota, the
type (from the content), the virus scan, the image itself. The files are written to
storage before the row; if the row cannot be written they are removed again: nothing is
left half-stored.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import IO, Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Case, Q, Sum, Value, When
from django.utils import timezone

from smartcampus_chat.conf import app_settings
from smartcampus_chat.domain import attachments as rules
from smartcampus_chat.domain.policies import RoomAccess
from smartcampus_chat.domain.validation import is_object_id
from smartcampus_chat.exceptions import (
    AttachmentNotFound,
    FileTooLarge,
    NotFound,
    TooManyAttachments,
    UnsupportedFileType,
    UploadQuotaExceeded,
)
from smartcampus_chat.infra import file_store, images, ratelimit, virus_scan
from smartcampus_chat.models import (
    AttachmentKind,
    ChatAttachment,
    ChatMessage,
    ChatRoom,
    ReportStatus,
)
from smartcampus_chat.protocol.frames import MessageEdited
from smartcampus_chat.protocol.render import message_data
from smartcampus_chat.realtime import events
from smartcampus_chat.services.messages import check_can_post, next_event

logger = logging.getLogger(__name__)

#: Bytes read at a time when hashing or copying an upload.
CHUNK = 256 * 1024


def check_enabled() -> None:
    """Uploads are off (``ATTACHMENTS = False``): every door answers as for a missing page."""
    if not app_settings.ATTACHMENTS:
        raise NotFound()


def check_declared_size(content_length: str | None, overhead: int) -> None:
    """Refuse at once a request whose declared body is past ``ATTACHMENT_MAX_BYTES`` plus
    the multipart ``overhead`` (before any of it is read)."""
    declared = content_length or "0"
    limit = app_settings.ATTACHMENT_MAX_BYTES + overhead
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise FileTooLarge()


def check_upload(
    user: Any, room: ChatRoom, access: RoomAccess, file: UploadedFile
) -> ChatAttachment:
    """Check and store one uploaded file in ``room``: an upload only ``user`` sees until a
    message of theirs sends it. Raises the first check it fails (module docstring)."""
    check_enabled()
    check_can_post(access, room)
    ratelimit.check_rate("upload", user)
    size = file.size or 0
    if size > app_settings.ATTACHMENT_MAX_BYTES:
        raise FileTooLarge()
    if uploaded_today(user) + size > app_settings.ATTACHMENT_BYTES_PER_DAY:
        raise UploadQuotaExceeded()
    mime = rules.detect_type(_head(file))
    if not rules.is_allowed_type(mime):
        raise UnsupportedFileType()
    virus_scan.scan(file)
    name = rules.clean_name(file.name or "")
    if rules.is_raster(mime):
        processed = images.process(file, mime, max_pixels=app_settings.ATTACHMENT_MAX_PIXELS)
        return do_store_image(user, room, name, mime, processed)
    return do_store_file(user, room, name, mime, file)


def uploaded_today(user: Any) -> int:
    """Bytes ``user`` uploaded in the last 24 hours (one query, on the quota index)."""
    since = timezone.now() - timedelta(days=1)
    total = ChatAttachment.objects.filter(uploader=user, created_at__gte=since).aggregate(
        total=Sum("size")
    )["total"]
    return int(total or 0)


def _head(file: IO[bytes]) -> bytes:
    file.seek(0)
    head = file.read(rules.HEAD_BYTES)
    file.seek(0)
    return head


def do_store_image(
    user: Any, room: ChatRoom, name: str, mime: str, processed: images.ProcessedImage
) -> ChatAttachment:
    """Store a checked image (re-encoded) and its thumbnails, then its row. A photo stored
    in another type than it came in (HEIC as JPEG) is named for what it became."""
    image = processed.image
    base = file_store.new_name()
    stored: list[str] = []
    try:
        stored.append(file_store.save(base, image.data))
        thumbnails = {}
        for variant, thumb in processed.thumbnails.items():
            thumb_name = file_store.save(f"{base}-{variant}", thumb.data)
            stored.append(thumb_name)
            thumbnails[variant] = {
                "name": thumb_name,
                "width": thumb.width,
                "height": thumb.height,
                "content_type": thumb.content_type,
            }
        return _create(
            stored,
            room=room,
            uploader=user,
            name=name
            if image.content_type == mime
            else rules.with_extension(name, image.content_type),
            storage_name=stored[0],
            content_type=image.content_type,
            kind=AttachmentKind.IMAGE,
            size=len(image.data),
            sha256=hashlib.sha256(image.data).hexdigest(),
            width=image.width,
            height=image.height,
            thumbnails=thumbnails,
        )
    except BaseException:
        file_store.delete(stored)
        raise


def do_store_file(
    user: Any, room: ChatRoom, name: str, mime: str, file: IO[bytes]
) -> ChatAttachment:
    """Store a checked file as it is (streamed), then its row."""
    digest = hashlib.sha256()
    size = 0
    file.seek(0)
    for chunk in iter(lambda: file.read(CHUNK), b""):
        digest.update(chunk)
        size += len(chunk)
    file.seek(0)
    stored: list[str] = []
    try:
        stored.append(file_store.save(file_store.new_name(), file))
        return _create(
            stored,
            room=room,
            uploader=user,
            name=name,
            storage_name=stored[0],
            content_type=mime,
            kind=AttachmentKind.FILE,
            size=size,
            sha256=digest.hexdigest(),
        )
    except BaseException:
        file_store.delete(stored)
        raise


def _create(stored: list[str], **fields: Any) -> ChatAttachment:
    attachment = ChatAttachment(**fields)
    attachment.save(force_insert=True)
    return attachment


def check_withdraw_upload(user: Any, attachment_id: Any) -> None:
    """Remove an upload not sent yet (the composer's "remove" after the upload finished).
    Only its uploader may; a sent file is removed by deleting its message."""
    if not is_object_id(attachment_id):
        raise NotFound()
    with transaction.atomic():
        attachment = (
            ChatAttachment.objects.select_for_update()
            .filter(pk=attachment_id, uploader=user, message__isnull=True)
            .first()
        )
        if attachment is None:
            raise NotFound()
        do_withdraw_upload(attachment)


def do_withdraw_upload(attachment: ChatAttachment) -> None:
    """Delete an upload's row, and its files once that is committed."""
    names = stored_names([attachment])
    with transaction.atomic():
        ChatAttachment.objects.filter(pk=attachment.pk, message__isnull=True).delete()
        transaction.on_commit(lambda: file_store.delete(names))


def stored_names(attachments: Iterable[ChatAttachment]) -> list[str]:
    """Every stored file of ``attachments``: each file and its thumbnails."""
    names = []
    for attachment in attachments:
        names.append(attachment.storage_name)
        names.extend(str(thumb["name"]) for thumb in (attachment.thumbnails or {}).values())
    return names


def do_remove_attachments(attachments: Iterable[ChatAttachment]) -> int:
    """Remove files for good (staff, in the admin): their rows now, their stored files
    after commit. A message that loses files takes a change number and is announced
    again (``message.edited``), so open clients drop them as a fresh fetch would."""
    rows = list(attachments)
    by_message: dict[int, list[ChatAttachment]] = {}
    for row in rows:
        if row.message_id is not None:
            by_message.setdefault(row.message_id, []).append(row)
    names = stored_names(rows)
    with transaction.atomic():
        ChatAttachment.objects.filter(pk__in=[row.pk for row in rows]).delete()
        for message in (
            ChatMessage.objects.shown().select_related("room").filter(pk__in=list(by_message))
        ):
            message.event_seq = next_event(message.room_id)
            message.save(update_fields=["event_seq"])
            data = message_data(message, room_slug=message.room.slug)
            events.publish_to_room(message.room_id, MessageEdited(message=data))
        transaction.on_commit(lambda: file_store.delete(names))
    return len(rows)


# --- Sending -------------------------------------------------------------------------------


def clean_ids(value: Any) -> list[int]:
    """The ``attachments`` of a send: a list of distinct upload ids (none: ``[]``)."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(is_object_id(item) for item in value):
        raise AttachmentNotFound(fields={"attachments": [str(AttachmentNotFound.default_message)]})
    if len(value) > app_settings.ATTACHMENTS_PER_MESSAGE:
        raise TooManyAttachments()
    if value and not app_settings.ATTACHMENTS:
        raise AttachmentNotFound()
    return list(dict.fromkeys(value))


def check_attachments(
    wanted: Sequence[tuple[Any, ChatRoom, str, list[int]]],
) -> list[list[ChatAttachment] | AttachmentNotFound]:
    """The uploads each send names, in one query for a batch: for each (user, room,
    client id, ids), the uploads in order, or the error if one is not the sender's
    upload in that room, not yet sent (a retry of the same ``client_id`` finds its own).
    """
    ids = {pk for _user, _room, _client, pks in wanted for pk in pks}
    found: dict[int, ChatAttachment] = {}
    if ids:
        rows = ChatAttachment.objects.filter(pk__in=ids).select_related("message")
        found = {row.pk: row for row in rows}
    results: list[list[ChatAttachment] | AttachmentNotFound] = []
    for user, room, client_id, pks in wanted:
        rows_of = [found.get(pk) for pk in pks]
        ok = all(
            row is not None
            and row.uploader_id == user.pk
            and row.room_id == room.pk
            and (row.message is None or _same_send(row.message, user, client_id))
            for row in rows_of
        )
        results.append([row for row in rows_of if row is not None] if ok else AttachmentNotFound())
    return results


def _same_send(message: ChatMessage, user: Any, client_id: str) -> bool:
    """Whether ``message`` is the one a retried send (same sender and ``client_id``)
    stored: its uploads are "its own" for the retry, which is answered with it."""
    return bool(client_id) and message.sender_id == user.pk and message.client_id == client_id


def do_attach(sent: Sequence[tuple[ChatMessage, list[ChatAttachment]]]) -> None:
    """Bind uploads to their new messages, inside the send's transaction: one ``UPDATE``
    per message with files (none for a batch without). An upload that another send took
    meanwhile fails the batch (each is then stored alone, and that one refused)."""
    for message, uploads in sent:
        positions = [When(pk=upload.pk, then=Value(i)) for i, upload in enumerate(uploads)]
        updated = ChatAttachment.objects.filter(
            pk__in=[upload.pk for upload in uploads],
            message__isnull=True,
            uploader_id=message.sender_id,
        ).update(message=message, position=Case(*positions))
        if updated != len(uploads):
            raise AttachmentNotFound()
        for position, upload in enumerate(uploads):
            upload.message = message
            upload.position = position
        message.attachment_rows = list(uploads)  # type: ignore[attr-defined]


# --- Purging -------------------------------------------------------------------------------


def purgeable(now: Any = None) -> Q:
    """Attachments whose files may leave storage: uploads never sent (or whose message was
    erased; not those of a held send still waiting for a moderator) and files of messages
    deleted, ``ATTACHMENT_PURGE_AFTER`` seconds ago."""
    now = now or timezone.now()
    before = now - timedelta(seconds=app_settings.ATTACHMENT_PURGE_AFTER)
    unsent = Q(message__isnull=True, created_at__lt=before) & ~Q(held_in__status=ReportStatus.OPEN)
    return unsent | Q(message__is_deleted=True, message__deleted_at__lt=before)


def do_purge_attachments(*, now: Any = None, batch_size: int = 500) -> int:
    """Remove the files and rows of :func:`purgeable` attachments, a batch at a time; how
    many. A row is deleted before its files: a file is never removed while a row (and so
    a message) still refers to it."""
    removed = 0
    while True:
        with transaction.atomic():
            batch = list(
                ChatAttachment.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(purgeable(now))
                .order_by("pk")[:batch_size]
            )
            if not batch:
                return removed
            names = stored_names(batch)
            ChatAttachment.objects.filter(pk__in=[row.pk for row in batch]).delete()
        file_store.delete(names)
        removed += len(batch)
