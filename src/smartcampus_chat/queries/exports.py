"""What a data export holds (docs/data-export.md), read from the tables; and a person's
list of exports.

A person's own export (:func:`user_export`) holds only what they wrote, chose or did:
their messages (not deleted), their reactions, their rooms and notification choices, the
files they sent. Other people appear only as the display name a private conversation is
titled with; never a username, an e-mail address or an id. A message's HTML is left out:
its mentions carry the mentioned person's id (``data-user-id``), and the text says it all.

A room's export (:func:`room_export_rows`), for staff under a legal hold, holds every
message of the room with its metadata (a deleted one's text stays out), and the members.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Prefetch, Q, QuerySet
from django.urls import reverse
from django.utils.text import get_valid_filename

from smartcampus_chat.domain import names
from smartcampus_chat.domain.exports import export_token
from smartcampus_chat.models import (
    ChatAttachment,
    ChatExport,
    ChatMessage,
    ChatParticipant,
    ChatPreferences,
    ChatReaction,
    ChatRoom,
    ExportStatus,
    MessageKind,
    RoomType,
)

#: Exports listed on a person's page and in ``GET api/exports/``.
LISTED = 20
#: Messages read per query while a room's export is written.
BATCH = 500

JSON = dict[str, Any]


def exports_of(user: Any) -> list[ChatExport]:
    """``user``'s latest exports, newest first (one query)."""
    rows = ChatExport.objects.filter(user=user).select_related("room")
    return list(rows.order_by("-created_at", "-pk")[:LISTED])


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@dataclass(frozen=True)
class ExportedFile:
    """A stored file to copy into the zip as ``path``."""

    path: str
    storage_name: str


@dataclass
class UserExport:
    """The JSON documents of a person's export (file name: content) and its files."""

    documents: dict[str, Any] = field(default_factory=dict)
    files: list[ExportedFile] = field(default_factory=list)


def file_path(attachment: ChatAttachment) -> str:
    """Where an attachment goes in the zip: its id keeps names unique, and the uploader's
    name is made a plain file name (no folder, no leading dot)."""
    name = get_valid_filename(attachment.name.replace("/", "_").replace("\\", "_")) or "file"
    return f"attachments/{attachment.pk}-{name.lstrip('.') or 'file'}"


def _preferences(user: Any) -> JSON:
    stored = ChatPreferences.objects.filter(user=user).first()
    held = stored or ChatPreferences(user=user)
    return {
        "stored": stored is not None,
        "read_receipts": held.read_receipts,
        "browser_notifications": held.browser_notifications,
        "push_notifications": held.push_notifications,
        "email_digests": held.email_digests,
        "digest_delay_minutes": held.digest_delay,
        "push_private_content": held.push_private_content,
        "quiet_hours_start": held.quiet_hours_start.isoformat() if held.quiet_hours_start else None,
        "quiet_hours_end": held.quiet_hours_end.isoformat() if held.quiet_hours_end else None,
        "time_zone": held.time_zone,
        "language": held.language,
    }


def _room_titles(user: Any, rooms: list[ChatRoom]) -> dict[int, str]:
    """What ``user`` calls each room: a private one by the other person's display name."""
    ids = {pk for room in rooms if room.is_private for pk in names.private_member_ids(room)}
    people = get_user_model()._default_manager.in_bulk(ids) if ids else {}
    return {room.pk: names.room_title(room, user, people) for room in rooms}


def user_export(user: Any, *, now: datetime) -> UserExport:
    """Everything of ``user``'s own export: ``profile.json``, ``rooms.json``,
    ``messages.json``, ``reactions.json`` and the files they sent."""
    participations = list(
        ChatParticipant.objects.filter(user=user).select_related("room").order_by("room__slug")
    )
    messages = list(
        ChatMessage.objects.filter(sender=user, kind=MessageKind.USER, is_deleted=False)
        .select_related("room")
        .prefetch_related(
            Prefetch(
                "attachments",
                queryset=ChatAttachment.objects.filter(uploader=user).order_by("position", "pk"),
                to_attr="own_files",
            )
        )
        .order_by("room__slug", "seq")
    )
    reactions = list(
        ChatReaction.objects.filter(user=user)
        .select_related("message__room")
        .order_by("created_at", "pk")
    )
    rooms = {p.room.pk: p.room for p in participations}
    for message in messages:
        rooms.setdefault(message.room_id, message.room)
    titles = _room_titles(user, list(rooms.values()))
    joined = {p.room_id: p for p in participations}

    export = UserExport()
    export.documents["profile.json"] = {
        "display_name": names.display_name(user),
        "exported_at": now.isoformat(),
        "preferences": _preferences(user),
        "room_notifications": [
            {
                "room": p.room.slug,
                "notify_level": p.notify_level or "default",
                "muted_until": _when(p.muted_until),
            }
            for p in participations
        ],
    }
    room_rows = []
    for room in sorted(rooms.values(), key=lambda r: r.slug):
        participant = joined.get(room.pk)
        room_rows.append(
            {
                "room": room.slug,
                "title": titles[room.pk],
                "type": room.room_type,
                "role": participant.role if participant else None,
                "joined_at": _when(participant.joined_at) if participant else None,
                # A member now; or a member once (removed, or left after writing).
                "member": participant is not None and not participant.is_banned,
                "removed": bool(participant and participant.is_banned),
            }
        )
    export.documents["rooms.json"] = room_rows
    message_rows = []
    for message in messages:
        files = list(getattr(message, "own_files", []))
        export.files.extend(ExportedFile(file_path(f), f.storage_name) for f in files)
        message_rows.append(
            {
                "id": message.pk,
                "room": message.room.slug,
                "seq": message.seq,
                # Posted anonymously to classmates: theirs, shown to the room as nobody's.
                "anonymous": message.anonymous,
                "created_at": message.created_at.isoformat(),
                "text": message.content,
                "is_edited": message.is_edited,
                "edited_at": _when(message.edited_at),
                "reply_to": message.reply_to_id,
                "attachments": [file_path(f) for f in files],
            }
        )
    export.documents["messages.json"] = message_rows
    export.documents["reactions.json"] = [
        {
            "message_id": row.message_id,
            "room": row.message.room.slug,
            "emoji": row.emoji,
            "created_at": row.created_at.isoformat(),
        }
        for row in reactions
    ]
    return export


# --- A room's export (staff) ---------------------------------------------------------------


def _person(user: Any) -> JSON | None:
    """Someone in a room's export: the id (display names may repeat) and display name."""
    if user is None:
        return None
    return {"user_id": user.pk, "display_name": names.display_name(user)}


def room_description(room: ChatRoom, *, now: datetime) -> JSON:
    return {
        "slug": room.slug,
        "name": room.name,
        "type": room.room_type,
        "description": room.description,
        "created_at": room.created_at.isoformat(),
        "is_archived": room.is_archived,
        "private": room.room_type == RoomType.PRIVATE,
        "exported_at": now.isoformat(),
    }


def room_members(room: ChatRoom) -> list[JSON]:
    rows = ChatParticipant.objects.filter(room=room).select_related("user").order_by("joined_at")
    return [
        {
            **(_person(p.user) or {}),
            "role": p.role,
            "joined_at": p.joined_at.isoformat(),
            "removed": p.is_banned,
        }
        for p in rows
    ]


def _room_messages(room: ChatRoom) -> QuerySet[ChatMessage]:
    return (
        ChatMessage.objects.filter(room=room)
        .select_related("sender", "deleted_by", "reply_to")
        .prefetch_related(
            Prefetch(
                "reactions",
                queryset=ChatReaction.objects.select_related("user").order_by("pk"),
                to_attr="reaction_rows",
            ),
            Prefetch(
                "attachments",
                queryset=ChatAttachment.objects.order_by("position", "pk"),
                to_attr="attachment_rows",
            ),
        )
        .order_by("seq")
    )


def room_message_batches(room: ChatRoom) -> Iterator[list[ChatMessage]]:
    """The room's messages in order, :data:`BATCH` at a time (a fixed number of queries
    per batch, whatever the room's size)."""
    after = 0
    while True:
        batch = list(_room_messages(room).filter(Q(seq__gt=after))[:BATCH])
        if not batch:
            return
        yield batch
        after = batch[-1].seq


def room_message_row(message: ChatMessage) -> JSON:
    """One message of a room's export: a deleted one's text stays out (its metadata in)."""
    reactions = getattr(message, "reaction_rows", [])
    files = getattr(message, "attachment_rows", [])
    return {
        "id": message.pk,
        "seq": message.seq,
        "kind": message.kind,
        # An anonymous post names nobody in a room's export (its author's own export
        # lists it as theirs).
        "sender": None if message.anonymous else _person(message.sender),
        "anonymous": message.anonymous,
        "created_at": message.created_at.isoformat(),
        "content": None if message.is_deleted else message.content,
        "is_edited": message.is_edited,
        "edited_at": _when(message.edited_at),
        "is_deleted": message.is_deleted,
        "deleted_at": _when(message.deleted_at),
        "deleted_by": _person(message.deleted_by),
        "reply_to": message.reply_to_id,
        "pinned_at": _when(message.pinned_at),
        "reactions": [{"emoji": r.emoji, "by": _person(r.user)} for r in reactions],
        "attachments": [
            {"name": f.name, "content_type": f.content_type, "size": f.size, "sha256": f.sha256}
            for f in files
        ],
    }


def download_url(export: ChatExport) -> str | None:
    """The signed link of a ready export, for its requester (None when not ready)."""
    if export.status != ExportStatus.READY:
        return None
    token = export_token(export.pk, export.user_id)
    return reverse("smartcampus_chat:export_download", kwargs={"token": token})
