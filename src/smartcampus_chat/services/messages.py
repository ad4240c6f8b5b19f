"""Messages: send (idempotent on the client id), edit, soft delete, restore."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from smartcampus_chat import queries, signals
from smartcampus_chat.conf import app_settings
from smartcampus_chat.domain.policies import RoomAccess, get_policy
from smartcampus_chat.domain.validation import has_nul, is_object_id, is_unicode_text
from smartcampus_chat.exceptions import (
    MessageGone,
    NotFound,
    PermissionDenied,
    RoomArchived,
    ValidationFailed,
)
from smartcampus_chat.infra import ratelimit
from smartcampus_chat.models import ChatMessage, ChatParticipant, ChatRoom, Role
from smartcampus_chat.protocol.frames import MessageData, MessageDeleted, MessageEdited, MessageNew
from smartcampus_chat.protocol.render import message_data
from smartcampus_chat.realtime import events
from smartcampus_chat.services.rooms import announce_joined

#: The fields of a message that edits, deletes and restores change.
_CHANGEABLE = (
    "content",
    "is_edited",
    "edited_at",
    "is_deleted",
    "deleted_at",
    "deleted_by",
    "event_seq",
)


@dataclass(frozen=True)
class SendResult:
    message: ChatMessage
    created: bool
    #: The message as clients see it, when the service built it already (group commit
    #: renders each new message once, for its event and for the sender's ``ack``).
    data: MessageData | None = None


def clean_content(content: Any) -> str:
    """The content rule of every door that stores a message's text (sends, group-commit
    sends, edits): the API's and the forms' own checks come first, this one decides."""
    # Lone surrogates (valid in JSON as "\ud800") are not text: no database can store them.
    if not isinstance(content, str) or not is_unicode_text(content):
        raise ValidationFailed(fields={"content": [_("Must be text.")]})
    # PostgreSQL refuses NUL in text: refused here, it never reaches (and fails) a batch.
    if has_nul(content):
        raise ValidationFailed(fields={"content": [_("Null characters are not allowed.")]})
    text = content.strip()
    if not text:
        raise ValidationFailed(fields={"content": [_("A message cannot be empty.")]})
    if len(text) > app_settings.MAX_MESSAGE_LENGTH:
        message = _("A message has at most %(max)d characters.") % {
            "max": app_settings.MAX_MESSAGE_LENGTH
        }
        raise ValidationFailed(fields={"content": [message]})
    return text


def clean_client_id(client_id: Any) -> str:
    if client_id is None:
        return ""
    valid = (
        isinstance(client_id, str)
        and len(client_id) <= app_settings.MAX_CLIENT_ID_LENGTH
        and client_id.isascii()
        and client_id.isprintable()
    )
    if not valid:
        message = _("A client id is printable ASCII of at most %(max)d characters.") % {
            "max": app_settings.MAX_CLIENT_ID_LENGTH
        }
        raise ValidationFailed(fields={"client_id": [message]})
    return str(client_id)


def _require_post(access: RoomAccess, room: ChatRoom) -> None:
    if not access.can_see:
        raise NotFound()
    if room.is_archived:
        raise RoomArchived()
    if not access.can_post:
        raise PermissionDenied()


def check_send_message(
    user: Any,
    room: ChatRoom,
    content: Any,
    *,
    client_id: Any = None,
    reply_to: Any = None,
    access: RoomAccess | None = None,
) -> SendResult:
    content = clean_content(content)
    client_id = clean_client_id(client_id)
    access = access or get_policy().access(user, room)
    _require_post(access, room)
    ratelimit.check_send_rate(user)
    parent = None
    if reply_to is not None:
        if not is_object_id(reply_to):
            raise ValidationFailed(fields={"reply_to": [_("Must be a message id.")]})
        parent = ChatMessage.objects.filter(pk=reply_to, room=room).first()
        if parent is None:
            raise ValidationFailed(fields={"reply_to": [_("No such message in this room.")]})
    return do_send_message(
        user, room, content, client_id=client_id, reply_to=parent, refuse_archived=True
    )


def _next_numbers(
    room_id: int, *, new_message: bool, refuse_archived: bool = False
) -> tuple[int, int]:
    """Allocate the next (seq, event_seq) of a room inside the caller's transaction.

    The UPDATE takes the room's row lock until commit, so concurrent senders are numbered
    one after the other, and a rolled-back send gives its number back: no gaps, no doubles.
    With ``refuse_archived``, an archived room raises ``RoomArchived``: decided from the
    row itself, whatever room object the caller holds.
    """
    now = timezone.now()
    changes: dict[str, Any] = {"last_event_seq": F("last_event_seq") + 1}
    if new_message:
        changes.update(last_seq=F("last_seq") + 1, last_message_at=now)
    rows = ChatRoom.objects.filter(pk=room_id)
    if refuse_archived:
        rows = rows.filter(is_archived=False)
    if not rows.update(**changes) and refuse_archived:
        raise RoomArchived()
    seq, event_seq = (
        ChatRoom.objects.filter(pk=room_id).values_list("last_seq", "last_event_seq").get()
    )
    return seq, event_seq


def do_send_message(
    user: Any,
    room: ChatRoom,
    content: str,
    *,
    client_id: str = "",
    reply_to: ChatMessage | None = None,
    refuse_archived: bool = False,
) -> SendResult:
    """Store a message (no checks). ``refuse_archived``: raise ``RoomArchived`` if the room
    is archived when the message is numbered (the checked paths pass it)."""
    with transaction.atomic():
        if client_id:
            existing = ChatMessage.objects.filter(
                room=room, sender=user, client_id=client_id
            ).first()
            if existing is not None:
                return SendResult(existing, created=False)
        try:
            with transaction.atomic():
                seq, event_seq = _next_numbers(
                    room.pk, new_message=True, refuse_archived=refuse_archived
                )
                message = ChatMessage.objects.create(
                    room=room,
                    sender=user,
                    content=content,
                    seq=seq,
                    event_seq=event_seq,
                    client_id=client_id,
                    reply_to=reply_to,
                )
        except IntegrityError:
            if not client_id:
                raise
            # A concurrent retry with the same client id won the race: return its message.
            existing = ChatMessage.objects.get(room=room, sender=user, client_id=client_id)
            return SendResult(existing, created=False)
        room.last_seq, room.last_event_seq = seq, event_seq
        # Sending reads the room up to one's own message; the sender becomes a participant.
        updated = ChatParticipant.objects.filter(room=room, user=user).update(
            last_read_seq=Greatest("last_read_seq", seq)
        )
        if not updated:
            participant = ChatParticipant.objects.create(
                room=room, user=user, role=Role.MEMBER, last_read_seq=seq
            )
            announce_joined(user, room, participant)
        events.publish_to_room(
            room.pk, MessageNew(message=message_data(message, room_slug=room.slug))
        )
        signals.send_on_commit(
            signals.message_sent, ChatMessage, message=message, room=room, user=user
        )
    return SendResult(message, created=True)


#: A message the user may see, with their access to its room (NotFound otherwise): a read,
#: :func:`smartcampus_chat.queries.message_for`, named here for the doors that change it next.
get_message_for = queries.message_for


def check_can_edit(user: Any, message: ChatMessage, access: RoomAccess) -> None:
    """Whether ``user`` may edit ``message`` now; raises why not.

    The rule of every edit door, including the HTML form's page, which must neither show
    nor accept a message its user cannot save (a deleted one above all).
    """
    _require_post(access, message.room)
    if message.is_deleted:
        raise MessageGone()
    if not get_policy().can_edit_message(user, access, message):
        raise PermissionDenied(_("You can only edit your own messages."))


def check_edit_message(
    user: Any, message: ChatMessage, content: Any, access: RoomAccess
) -> ChatMessage:
    content = clean_content(content)
    check_can_edit(user, message, access)
    ratelimit.check_send_rate(user)
    if content == message.content:
        return message
    return do_edit_message(user, message, content)


class _Unchanged(Exception):
    """Rolls back a change found unnecessary once the row is locked (and its number)."""


def _lock(message: ChatMessage) -> None:
    """Re-read ``message``'s changeable fields under its row lock, in the caller's transaction.

    Edits, deletes and restores take the room's row lock first (:func:`_next_numbers`, as
    every writer of the room does: one lock order, no deadlock), then this one, so changes
    of one message are serialised and each decides on the row as the previous one left it,
    never on the copy read before its transaction: an edit committed just after a delete
    must not resurrect the deleted content. ``FOR NO KEY UPDATE`` does not block replies
    to the message (their foreign key takes ``FOR KEY SHARE``).
    """
    locked = ChatMessage.objects.select_for_update(no_key=True)
    try:
        message.refresh_from_db(from_queryset=locked, fields=list(_CHANGEABLE))
    except ChatMessage.DoesNotExist:
        raise NotFound() from None


def do_edit_message(user: Any, message: ChatMessage, content: str) -> ChatMessage:
    """Store the new content; ``MessageGone`` (nothing changed) if the message was deleted
    meanwhile."""
    with transaction.atomic():
        _, event_seq = _next_numbers(message.room_id, new_message=False)
        _lock(message)
        if message.is_deleted:
            raise MessageGone()
        message.content = content
        message.is_edited = True
        message.edited_at = timezone.now()
        message.event_seq = event_seq
        message.save(update_fields=["content", "is_edited", "edited_at", "event_seq"])
        events.publish_to_room(message.room_id, MessageEdited(message=message_data(message)))
        signals.send_on_commit(
            signals.message_edited, ChatMessage, message=message, room=message.room, user=user
        )
    return message


def check_delete_message(user: Any, message: ChatMessage, access: RoomAccess) -> ChatMessage:
    _require_post(access, message.room)
    ratelimit.check_send_rate(user)
    if message.is_deleted:
        return message
    if not get_policy().can_delete_message(user, access, message):
        raise PermissionDenied(_("You can only delete your own messages."))
    return do_delete_message(user, message)


def do_delete_message(user: Any, message: ChatMessage) -> ChatMessage:
    """Soft delete; a message deleted meanwhile stays as it is (no second event)."""
    try:
        with transaction.atomic():
            _, event_seq = _next_numbers(message.room_id, new_message=False)
            _lock(message)
            if message.is_deleted:
                raise _Unchanged
            message.is_deleted = True
            message.deleted_at = timezone.now()
            message.deleted_by = user
            message.event_seq = event_seq
            message.save(update_fields=["is_deleted", "deleted_at", "deleted_by", "event_seq"])
            events.publish_to_room(message.room_id, MessageDeleted(message=message_data(message)))
            signals.send_on_commit(
                signals.message_deleted, ChatMessage, message=message, room=message.room, user=user
            )
    except _Unchanged:
        pass
    return message


def do_restore_message(message: ChatMessage) -> ChatMessage:
    """Undo a soft delete (admin action); clients receive the message as edited."""
    try:
        with transaction.atomic():
            _, event_seq = _next_numbers(message.room_id, new_message=False)
            _lock(message)
            if not message.is_deleted:
                raise _Unchanged
            message.is_deleted = False
            message.deleted_at = None
            message.deleted_by = None
            message.event_seq = event_seq
            message.save(update_fields=["is_deleted", "deleted_at", "deleted_by", "event_seq"])
            events.publish_to_room(message.room_id, MessageEdited(message=message_data(message)))
    except _Unchanged:
        pass
    return message
