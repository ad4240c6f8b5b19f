"""Link previews (``LINK_PREVIEWS``, off by default): a card for the first link of a message.

The send pipeline calls :func:`do_plan` in its transaction: each new message whose
rendered text has an http(s) link (outside code) gets a ``pending`` row. After commit the
rows are handed to :func:`enqueue`: the host's ``LINK_PREVIEW_ENQUEUE`` callable (its task
queue), else a small thread pool of this process. Either way the fetch runs off the
request and socket path, in :func:`do_fetch_preview`: the page and its image through the
SSRF guard (:mod:`smartcampus_chat.infra.link_preview`), then, in one transaction, the row
filled in, the message's ``event_seq`` bumped and ``message.preview`` published with the
message as it is now. A fetch that fails marks the row ``failed``: no card, no frame.
Rows still pending (a full pool, a process that stopped) are fetched by ``manage.py
chat_link_previews``.

The author may remove the card (:func:`check_remove_preview`); the row stays, marked
``removed``, so a fetch still running never brings it back. A deleted message shows no
card; its image leaves storage after the attachments' grace period
(:func:`do_purge_preview_images`, run by ``chat_link_previews``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from smartcampus_chat.conf import ChatSettings, app_settings
from smartcampus_chat.domain.policies import RoomAccess, get_policy
from smartcampus_chat.exceptions import PermissionDenied
from smartcampus_chat.infra import file_store, ratelimit
from smartcampus_chat.infra.link_preview import fetch_link_preview
from smartcampus_chat.infra.safe_fetch import FetchError
from smartcampus_chat.markup.links import first_link
from smartcampus_chat.models import ChatLinkPreview, ChatMessage, MessageKind, PreviewStatus
from smartcampus_chat.protocol.frames import MessagePreview
from smartcampus_chat.protocol.render import message_data
from smartcampus_chat.realtime import events
from smartcampus_chat.services.messages import Unchanged, check_can_post, lock_message, next_event

logger = logging.getLogger(__name__)

#: Threads of the in-process pool, and previews it holds at most (more wait for the
#: management command).
POOL_WORKERS = 2
POOL_BACKLOG = 100


def mark_none(message: ChatMessage) -> None:
    """Tell the renderer a new message has no preview yet (no query to find out)."""
    ChatMessage.link_preview.related.set_cached_value(message, None)


def do_plan(messages: Iterable[ChatMessage]) -> None:
    """In the send's transaction: a pending preview for each new message with a link,
    handed to :func:`enqueue` once that transaction commits."""
    if not app_settings.LINK_PREVIEWS:
        return
    rows = []
    for message in messages:
        if message.kind != MessageKind.USER or message.sender_id is None:
            continue
        url = first_link(message.content_html)
        if url is not None:
            rows.append(ChatLinkPreview(message=message, url=url))
    if not rows:
        return
    ChatLinkPreview.objects.bulk_create(rows)
    message_ids = [row.message_id for row in rows]
    transaction.on_commit(lambda: enqueue(message_ids))


def enqueue(message_ids: Iterable[int]) -> None:
    """Have the previews of ``message_ids`` fetched in the background: by the host's
    ``LINK_PREVIEW_ENQUEUE`` callable, else by this process's thread pool."""
    hook = app_settings.load(ChatSettings.LINK_PREVIEW_ENQUEUE)
    for message_id in message_ids:
        if hook is None:
            _pool.submit(message_id)
            continue
        try:
            hook(message_id)
        except Exception:
            # Left pending: manage.py chat_link_previews fetches it.
            logger.exception("LINK_PREVIEW_ENQUEUE failed for message %s", message_id)


class _Pool:
    """A few threads fetching previews, with a bounded backlog; started on first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None
        self._queued = 0

    def submit(self, message_id: int) -> None:
        with self._lock:
            if self._queued >= POOL_BACKLOG:
                logger.warning("Link preview backlog full; message %s stays pending", message_id)
                return
            self._queued += 1
            if self._executor is None:
                self._executor = ThreadPoolExecutor(
                    max_workers=POOL_WORKERS, thread_name_prefix="chat-link-preview"
                )
            executor = self._executor
        executor.submit(self._run, message_id)

    def _run(self, message_id: int) -> None:
        try:
            do_fetch_preview(message_id)
        except Exception:
            logger.exception("Link preview of message %s failed", message_id)
        finally:
            connection.close()  # This thread's connection: the pool outlives requests.
            with self._lock:
                self._queued -= 1


_pool = _Pool()


def do_fetch_preview(message_id: int) -> bool:
    """Fetch the pending preview of message ``message_id`` and publish it; whether a
    card was published. What a host's task (``LINK_PREVIEW_ENQUEUE``) calls."""
    pending = ChatLinkPreview.objects.filter(status=PreviewStatus.PENDING, removed=False)
    row = pending.filter(pk=message_id).first()
    if row is None:
        return False
    try:
        found = fetch_link_preview(row.url)
    except FetchError as exc:
        logger.info("No link preview for message %s: %s (%s)", message_id, exc.code, exc)
        pending.filter(pk=message_id).update(status=PreviewStatus.FAILED, fetched_at=timezone.now())
        return False
    image_name = ""
    if found.image is not None:
        image_name = file_store.save(file_store.new_name(), found.image.data)
    try:
        with transaction.atomic():
            message = ChatMessage.objects.select_related("room", "sender").get(pk=message_id)
            event_seq = next_event(message.room_id)
            lock_message(message)
            row = ChatLinkPreview.objects.select_for_update().filter(pk=message_id).first()
            if row is None or row.status != PreviewStatus.PENDING or row.removed:
                raise Unchanged
            if message.is_deleted:
                raise Unchanged
            row.status = PreviewStatus.READY
            row.fetched_at = timezone.now()
            row.title, row.description = found.title, found.description
            row.site_name = found.site_name
            if found.image is not None:
                row.image_storage_name = image_name
                row.image_size = len(found.image.data)
                row.image_width, row.image_height = found.image.width, found.image.height
            row.save()
            message.event_seq = event_seq
            message.save(update_fields=["event_seq"])
            ChatMessage.link_preview.related.set_cached_value(message, row)
            events.publish_to_room(message.room_id, MessagePreview(message=message_data(message)))
    except (Unchanged, ChatMessage.DoesNotExist):
        if image_name:
            file_store.delete([image_name])
        return False
    return True


def pending_previews() -> list[int]:
    """The messages whose preview waits to be fetched, oldest first."""
    rows = ChatLinkPreview.objects.filter(status=PreviewStatus.PENDING, removed=False).order_by(
        "pk"
    )
    return list(rows.values_list("pk", flat=True))


def do_purge_preview_images(*, now: Any = None) -> int:
    """Remove from storage the images of the previews of messages deleted more than
    ``ATTACHMENT_PURGE_AFTER`` ago (the grace period of their files); how many. The row
    forgets its image first: no card ever points at a removed file."""
    cutoff = (now or timezone.now()) - timedelta(seconds=app_settings.ATTACHMENT_PURGE_AFTER)
    with transaction.atomic():
        rows = (
            ChatLinkPreview.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(message__is_deleted=True, message__deleted_at__lt=cutoff)
            .exclude(image_storage_name="")
        )
        found = dict(rows.values_list("pk", "image_storage_name"))
        ChatLinkPreview.objects.filter(pk__in=found).update(image_storage_name="", image_size=0)
    file_store.delete(found.values())
    return len(found)


def check_remove_preview(user: Any, message: ChatMessage, access: RoomAccess) -> ChatMessage:
    """The author removes the link preview of ``message`` (idempotent); the message as it
    is now."""
    check_can_post(access, message.room)
    if not get_policy().can_remove_link_preview(user, access, message):
        raise PermissionDenied(_("Only the author of a message may remove its link preview."))
    ratelimit.check_send_rate(user)
    return do_remove_preview(message)


def do_remove_preview(message: ChatMessage) -> ChatMessage:
    """Mark the preview removed and drop its image (after commit); ``message.preview``."""
    try:
        with transaction.atomic():
            event_seq = next_event(message.room_id)
            lock_message(message)
            row = ChatLinkPreview.objects.select_for_update().filter(pk=message.pk).first()
            if row is None or row.removed:
                raise Unchanged
            image = row.image_storage_name
            row.removed = True
            row.image_storage_name = ""
            row.save(update_fields=["removed", "image_storage_name"])
            message.event_seq = event_seq
            message.save(update_fields=["event_seq"])
            ChatMessage.link_preview.related.set_cached_value(message, row)
            events.publish_to_room(message.room_id, MessagePreview(message=message_data(message)))
            if image:
                transaction.on_commit(lambda: file_store.delete([image]))
    except Unchanged:
        pass
    return message
