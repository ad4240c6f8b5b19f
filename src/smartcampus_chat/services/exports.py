"""Data exports (docs/data-export.md): a person's own data, or a room for a legal hold.

A person asks (:func:`check_request_export`: one being prepared at a time, at most
``EXPORT_MAX_PER_DAY`` in 24 hours); staff ask for a room in the admin
(:func:`do_request_room_export`). The row is written ``pending`` and, once committed,
handed to :func:`enqueue`: the host's ``EXPORT_ENQUEUE`` callable (its task queue), else
a thread of this process. Either way the zip is built off the request path by
:func:`do_build_export`, stored under a random name in ``ATTACHMENT_STORAGE``, and the
export becomes ``ready`` with its audit entry. What is left pending (a process that
stopped, a host without a queue) is built by :func:`run_export_jobs`, the job hook that
``manage.py chat_exports`` runs and a host may call from Celery or cron; it also deletes
the exports nobody downloaded in time.

The requester downloads a ready export once, through a signed link that expires with it
(:func:`check_download_export`): the download claims it (``downloaded``) before the first
byte, and :func:`finish_download` removes the file once sent. ``manage.py
chat_export_room`` writes a room's zip straight into a folder (:func:`write_room_export`).
"""

from __future__ import annotations

import io
import json
import logging
import shutil
import tempfile
import threading
import zipfile
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from smartcampus_chat.conf import ChatSettings, app_settings
from smartcampus_chat.domain import names
from smartcampus_chat.domain.exports import read_export_token
from smartcampus_chat.exceptions import ExportGone, ExportLimitReached, ExportPending, NotFound
from smartcampus_chat.infra import file_store
from smartcampus_chat.models import (
    AuditAction,
    ChatExport,
    ChatMessage,
    ChatRoom,
    ExportKind,
    ExportStatus,
)
from smartcampus_chat.queries import exports as data
from smartcampus_chat.services import audit

logger = logging.getLogger(__name__)

#: The window of ``EXPORT_MAX_PER_DAY``.
DAY = timedelta(hours=24)
#: A build claimed longer ago than this belongs to a builder that died: claimed again.
#: A download claimed longer ago than this is over: its file may go.
LEASE = timedelta(hours=1)
#: The transcript's templates: its start (room, members), a batch of messages, its end.
TRANSCRIPT_START = "smartcampus_chat/export/transcript_start.html"
TRANSCRIPT_MESSAGES = "smartcampus_chat/export/transcript_messages.html"
TRANSCRIPT_END = "smartcampus_chat/export/transcript_end.html"


# --- Asking -------------------------------------------------------------------------------


def check_request_export(user: Any) -> ChatExport:
    """Ask for an export of ``user``'s own data; refused while one is being prepared or
    when ``EXPORT_MAX_PER_DAY`` were asked for in the last 24 hours."""
    mine = ChatExport.objects.filter(user=user, kind=ExportKind.USER)
    if mine.filter(status=ExportStatus.PENDING).exists():
        raise ExportPending()
    now = timezone.now()
    recent = list(mine.filter(created_at__gt=now - DAY).order_by("created_at")[:1000])
    if len(recent) >= app_settings.EXPORT_MAX_PER_DAY:
        oldest = recent[-app_settings.EXPORT_MAX_PER_DAY]
        wait = (oldest.created_at + DAY - now).total_seconds()
        raise ExportLimitReached(retry_after=max(1.0, wait))
    return do_request_export(user)


def do_request_export(user: Any) -> ChatExport:
    """The export row, pending; ``ExportPending`` if one is pending already (the database
    decides between two requests that both passed :func:`check_request_export`)."""
    try:
        with transaction.atomic():
            export = ChatExport.objects.create(user=user, kind=ExportKind.USER)
            export_id = export.pk
            transaction.on_commit(lambda: enqueue([export_id]))
    except IntegrityError:
        raise ExportPending() from None
    return export


def do_request_room_export(actor: Any, room: ChatRoom) -> ChatExport:
    """A room's export for ``actor`` (staff: the admin's permissions stand in for the
    policy), downloaded from their "Your data" page once ready."""
    with transaction.atomic():
        export = ChatExport.objects.create(user=actor, kind=ExportKind.ROOM, room=room)
        export_id = export.pk
        transaction.on_commit(lambda: enqueue([export_id]))
    return export


def enqueue(export_ids: Iterable[int]) -> None:
    """Have ``export_ids`` built in the background: by the host's ``EXPORT_ENQUEUE``
    callable, else by a thread of this process. Never raises: what is not handed over
    stays pending for :func:`run_export_jobs`."""
    hook = app_settings.load(ChatSettings.EXPORT_ENQUEUE)
    for export_id in export_ids:
        try:
            if hook is None:
                _pool.submit(export_id)
            else:
                hook(export_id)
        except Exception:
            logger.exception("Export %s could not be queued; it stays pending", export_id)


class _Pool:
    """One thread building exports, started on first use (a zip is disk and database
    work: one at a time per process is plenty)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None

    def submit(self, export_id: int) -> None:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(
                    max_workers=1, thread_name_prefix="chat-exports"
                )
            executor = self._executor
        executor.submit(self._run, export_id)

    def _run(self, export_id: int) -> None:
        try:
            do_build_export(export_id)
        except Exception:
            logger.exception("Export %s failed", export_id)
        finally:
            connection.close()  # This thread's connection: the pool outlives requests.


_pool = _Pool()


# --- Building -----------------------------------------------------------------------------


def do_build_export(export_id: int) -> bool:
    """Build the pending export ``export_id`` (what a host's ``EXPORT_ENQUEUE`` task
    calls); whether it became ready. Claimed first, so two builders never build one
    export; a build that fails marks it ``failed``."""
    started = timezone.now()
    claimable = ChatExport.objects.filter(pk=export_id, status=ExportStatus.PENDING).filter(
        Q(started_at__isnull=True) | Q(started_at__lt=started - LEASE)
    )
    if not claimable.update(started_at=started):
        return False
    export = ChatExport.objects.select_related("user", "room").get(pk=export_id)
    mine = ChatExport.objects.filter(pk=export_id, status=ExportStatus.PENDING, started_at=started)
    try:
        stored, size = _store(export, started)
    except Exception:
        logger.exception("Export %s could not be built", export_id)
        mine.update(status=ExportStatus.FAILED)
        return False
    with transaction.atomic():
        ready = timezone.now()
        expires = ready + timedelta(seconds=app_settings.EXPORT_EXPIRES_AFTER)
        done = mine.update(
            status=ExportStatus.READY,
            storage_name=stored,
            size=size,
            ready_at=ready,
            expires_at=expires,
        )
        if not done:  # Taken over meanwhile (a lease that ran out): keep theirs only.
            transaction.on_commit(lambda: file_store.delete([stored]))
            return False
        _record(export, size)
    return True


def _record(export: ChatExport, size: int) -> None:
    details = {"export_id": export.pk, "bytes": size}
    if export.kind == ExportKind.USER:
        audit.record(
            export.user, AuditAction.USER_EXPORTED, target_user=export.user, details=details
        )
    else:
        audit.record(export.user, AuditAction.ROOM_EXPORTED, room=export.room, details=details)


def _store(export: ChatExport, now: datetime) -> tuple[str, int]:
    """The export's zip, written to a temporary file then stored; its name and size."""
    with tempfile.TemporaryFile() as archive:
        if export.kind == ExportKind.USER:
            write_user_zip(export.user, archive, now=now)
        elif export.room is not None:
            write_room_zip(export.room, archive, now=now)
        else:
            raise ValueError("The room of this export no longer exists.")
        size = archive.tell()
        archive.seek(0)
        return file_store.save(f"{file_store.new_name()}.zip", archive), size


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2)


def write_user_zip(user: Any, archive: IO[bytes], *, now: datetime) -> None:
    """``user``'s own data as a zip (queries.exports.user_export): the JSON documents
    and the files they sent (one purged meanwhile is left out)."""
    found = data.user_export(user, now=now)
    store = file_store.storage()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for name, document in found.documents.items():
            zipped.writestr(name, _dumps(document) + "\n")
        for item in found.files:
            try:
                source = store.open(item.storage_name, "rb")
            except FileNotFoundError:
                logger.warning("Export of %s: %s is no longer stored", user.pk, item.path)
                continue
            with source, zipped.open(item.path, "w") as target:
                shutil.copyfileobj(source, target)


def write_room_zip(room: ChatRoom, archive: IO[bytes], *, now: datetime) -> None:
    """A room's export: ``room.json`` (the room, its members, every message with its
    metadata, a deleted one without its text) and ``transcript.html`` (the same, to
    read), each written a batch of messages at a time."""
    description = data.room_description(room, now=now)
    members = data.room_members(room)
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        with zipped.open("room.json", "w") as raw, io.TextIOWrapper(raw, "utf-8") as out:
            out.write(f'{{"room": {json.dumps(description, ensure_ascii=False)},\n')
            out.write(f'"members": {json.dumps(members, ensure_ascii=False)},\n"messages": [')
            separator = "\n"
            for batch in data.room_message_batches(room):
                for message in batch:
                    row = json.dumps(data.room_message_row(message), ensure_ascii=False)
                    out.write(separator + row)
                    separator = ",\n"
            out.write("\n]}\n")
        with zipped.open("transcript.html", "w") as raw, io.TextIOWrapper(raw, "utf-8") as out:
            context = {"room": description, "members": members}
            out.write(render_to_string(TRANSCRIPT_START, context))
            for batch in data.room_message_batches(room):
                rows = [_transcript_row(message) for message in batch]
                out.write(render_to_string(TRANSCRIPT_MESSAGES, {"rows": rows}))
            out.write(render_to_string(TRANSCRIPT_END, context))


@dataclass(frozen=True)
class TranscriptRow:
    """One message of a transcript: ``html`` is the stored, sanitised rendering."""

    message: ChatMessage
    author: str
    html: str
    reactions: list[tuple[str, str]]
    files: list[str]


def _transcript_row(message: ChatMessage) -> TranscriptRow:
    reactions = getattr(message, "reaction_rows", [])
    return TranscriptRow(
        message=message,
        author=names.author_name(message),
        html="" if message.is_deleted else message.content_html,
        reactions=[(r.emoji, names.display_name(r.user)) for r in reactions],
        files=[f.name for f in getattr(message, "attachment_rows", [])],
    )


def write_room_export(room: ChatRoom, directory: Path) -> Path:
    """``manage.py chat_export_room``: the room's zip written into ``directory`` (made if
    need be), audited as the site's own action; its path."""
    now = timezone.now()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{room.slug}-{now:%Y%m%d-%H%M%S}.zip"
    with path.open("xb") as archive:
        write_room_zip(room, archive, now=now)
        size = archive.tell()
    with transaction.atomic():
        details = {"bytes": size, "file": path.name, "by": "chat_export_room"}
        audit.record(None, AuditAction.ROOM_EXPORTED, room=room, details=details)
    return path


# --- Downloading --------------------------------------------------------------------------


def check_download_export(user: Any, token: str) -> ChatExport:
    """The export a download link names, claimed for this one download. The link must be
    this site's, not older than ``EXPORT_EXPIRES_AFTER``, and ``user``'s own (anything
    else: ``NotFound``); an export downloaded or expired already: ``ExportGone`` (410)."""
    link = read_export_token(token, app_settings.EXPORT_EXPIRES_AFTER)
    if link is None or link.user_id != user.pk:
        raise NotFound()
    export = ChatExport.objects.filter(pk=link.export_id, user=user).first()
    if export is None:
        raise NotFound()
    return do_claim_download(export)


def do_claim_download(export: ChatExport) -> ChatExport:
    """Mark a ready export ``downloaded`` (one UPDATE: of two concurrent downloads, one
    wins), before its bytes are sent."""
    now = timezone.now()
    claimed = ChatExport.objects.filter(
        pk=export.pk, status=ExportStatus.READY, expires_at__gt=now
    ).update(status=ExportStatus.DOWNLOADED, downloaded_at=now)
    export.refresh_from_db()
    if not claimed:
        raise ExportGone()
    return export


def finish_download(export: ChatExport) -> None:
    """The download is over (sent, or the client went away): the file goes."""
    file_store.delete([export.storage_name])
    ChatExport.objects.filter(pk=export.pk).update(storage_name="")


# --- The job ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportJobCounts:
    built: int
    failed: int
    expired: int


def pending_exports() -> list[int]:
    """The exports waiting to be built (or whose builder died), oldest first."""
    now = timezone.now()
    rows = ChatExport.objects.filter(status=ExportStatus.PENDING).filter(
        Q(started_at__isnull=True) | Q(started_at__lt=now - LEASE)
    )
    return list(rows.order_by("created_at", "pk").values_list("pk", flat=True))


def do_expire_exports(now: datetime | None = None) -> int:
    """Delete the files of ready exports past ``expires_at`` (now ``expired``) and the
    files a download left behind (a process that stopped mid-download); how many
    exports expired."""
    now = now or timezone.now()
    expired = list(ChatExport.objects.filter(status=ExportStatus.READY, expires_at__lte=now))
    for export in expired:
        if ChatExport.objects.filter(pk=export.pk, status=ExportStatus.READY).update(
            status=ExportStatus.EXPIRED, storage_name=""
        ):
            file_store.delete([export.storage_name])
    left = ChatExport.objects.filter(
        Q(status=ExportStatus.DOWNLOADED, downloaded_at__lt=now - LEASE)
        | Q(status__in=[ExportStatus.EXPIRED, ExportStatus.FAILED])
    ).exclude(storage_name="")
    for export in left:
        finish_download(export)
    return len(expired)


def run_export_jobs(limit: int | None = None) -> ExportJobCounts:
    """The job hook (``manage.py chat_exports``; a host's Celery beat or cron may call it
    instead): build the pending exports (at most ``limit``), then expire the old ones."""
    pending = pending_exports()
    if limit is not None:
        pending = pending[: max(0, limit)]
    built = sum(do_build_export(export_id) for export_id in pending)
    failed = ChatExport.objects.filter(pk__in=pending, status=ExportStatus.FAILED).count()
    return ExportJobCounts(built=built, failed=failed, expired=do_expire_exports())
