"""Messages: edit, soft delete, restore; the content rule every write shares.

Sending is :mod:`.batch` (the send pipeline), which uses the rules defined here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from smartcampus_chat import markup, queries, signals
from smartcampus_chat.conf import app_settings
from smartcampus_chat.domain import word_filter
from smartcampus_chat.domain.policies import RoomAccess, get_policy
from smartcampus_chat.domain.sanctions import clean_reason, is_indefinite
from smartcampus_chat.domain.validation import has_nul, is_unicode_text
from smartcampus_chat.exceptions import (
    BlockedContent,
    CourseEnded,
    MessageGone,
    Muted,
    NotFound,
    PermissionDenied,
    RoomArchived,
    RoomLocked,
    ValidationFailed,
)
from smartcampus_chat.infra import ratelimit
from smartcampus_chat.markup import Mentionable
from smartcampus_chat.models import AuditAction, ChatMessage, ChatMessageEdit, ChatRoom
from smartcampus_chat.protocol.frames import MessageDeleted, MessageEdited
from smartcampus_chat.protocol.payloads import MessageData
from smartcampus_chat.protocol.render import message_data
from smartcampus_chat.realtime import events
from smartcampus_chat.services import audit, mentions, notifications, question_updates, reads

#: The fields of a message that edits, deletes and restores change.
_CHANGEABLE = (
    "pinned_at",
    "content",
    "content_html",
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


def clean_content(content: Any, *, allow_empty: bool = False) -> str:
    """The content rule of every door that stores a message's text (sends, group-commit
    sends, edits): the API's and the forms' own checks come first, this one decides.
    ``allow_empty``: a send with attached files may have no text (no caption)."""
    # Lone surrogates (valid in JSON as "\ud800") are not text: no database can store them.
    if not isinstance(content, str) or not is_unicode_text(content):
        raise ValidationFailed(fields={"content": [_("Must be text.")]})
    # PostgreSQL refuses NUL in text: refused here, it never reaches (and fails) a batch.
    if has_nul(content):
        raise ValidationFailed(fields={"content": [_("Null characters are not allowed.")]})
    text = content.strip()
    if not text and not allow_empty:
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


def check_can_participate(access: RoomAccess, room: ChatRoom) -> None:
    """The room is seen and open, and the user is a member who may act in it (not a
    read-only one); raises why not. Deleting one's own message needs no more."""
    if not access.can_see:
        raise NotFound()
    if room.is_archived:
        raise RoomArchived()
    if not access.can_participate:
        raise PermissionDenied()


def check_can_react(access: RoomAccess, room: ChatRoom) -> None:
    """:func:`check_can_participate`, and not muted by a moderator (a locked room's
    members still react to its announcements)."""
    check_can_participate(access, room)
    if access.ended:
        raise CourseEnded()
    if access.is_muted:
        raise Muted(retry_after=_seconds_until(access.muted_until))


def check_can_post(access: RoomAccess, room: ChatRoom) -> None:
    """The rule of every door that writes to a room (send, edit, pin, upload): the room is
    seen, not archived, the user may post there, is not muted and the room not locked to
    them; raises why not (each its own code: ``muted``, ``room_locked``...)."""
    check_can_react(access, room)
    if not access.can_post:
        raise RoomLocked()


def _seconds_until(until: datetime | None) -> float | None:
    """Seconds until ``until``, None for an indefinite sanction (the far future)."""
    if until is None or is_indefinite(until):
        return None
    return max(1.0, round((until - timezone.now()).total_seconds()))


def next_event(room_id: int) -> int:
    """Take the room's next change number (``event_seq``) inside the caller's transaction.

    The UPDATE takes the room's row lock until commit, so concurrent writers of the room
    are numbered one after the other (sends take it too, :mod:`.batch`), and a rolled-back
    change gives its number back: no gaps, no doubles.
    """
    ChatRoom.objects.filter(pk=room_id).update(last_event_seq=F("last_event_seq") + 1)
    return int(ChatRoom.objects.filter(pk=room_id).values_list("last_event_seq", flat=True).get())


#: A message the user may see, with their access to its room (NotFound otherwise): a read,
#: :func:`smartcampus_chat.queries.message_for`, named here for the doors that change it next.
get_message_for = queries.message_for


def check_can_edit(user: Any, message: ChatMessage, access: RoomAccess) -> None:
    """Whether ``user`` may edit ``message`` now; raises why not.

    The rule of every edit door, including the HTML form's page, which must neither show
    nor accept a message its user cannot save (a deleted one above all).
    """
    check_can_post(access, message.room)
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
    check_edit_word_filter(message.room, content)
    mentionable = mentions.check_mentions_one(message.room, content, access)
    return do_edit_message(user, message, content, mentionable=mentionable)


def is_filtered(room: ChatRoom, content: str) -> bool:
    """Whether ``content`` has a word or phrase of the site's or ``room``'s word filter
    (the rule sends and edits share)."""
    entries = word_filter.room_entries(room.word_filter)
    return word_filter.is_filtered(content, app_settings.WORD_FILTER, entries)


def check_edit_word_filter(room: ChatRoom, content: str) -> None:
    """The word filter on an edit: a filtered word is refused (``blocked_content``) even
    where the filter holds sends for review (an edit is not held: the message as it
    stands stays, and the author may edit again)."""
    if is_filtered(room, content):
        raise BlockedContent()


class Unchanged(Exception):
    """Rolls back a change found unnecessary once the row is locked (and its number)."""


def lock_message(message: ChatMessage) -> None:
    """Re-read ``message``'s changeable fields under its row lock, in the caller's transaction.

    Edits, deletes and restores take the room's row lock first (:func:`next_event`, as
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


def do_edit_message(
    user: Any, message: ChatMessage, content: str, *, mentionable: Mentionable | None = None
) -> ChatMessage:
    """Store the new content (rendered again, its mentions with it: ``mentionable``, or
    resolved without checks); ``MessageGone`` (nothing changed) if the message was deleted
    meanwhile. The people whose mention came or went get their counts (``unread``)."""
    if mentionable is None:
        mentionable = mentions.resolve_unchecked(message.sender, message.room, content)
    html = markup.render(content, mentionable)
    with transaction.atomic():
        event_seq = next_event(message.room_id)
        lock_message(message)
        if message.is_deleted:
            raise MessageGone()
        if message.content != content:
            # The edit history the room's moderators read (queries.edit_history).
            ChatMessageEdit.objects.create(message=message, content=message.content)
        message.content = content
        message.content_html = html
        message.is_edited = True
        message.edited_at = timezone.now()
        message.event_seq = event_seq
        message.save(
            update_fields=["content", "content_html", "is_edited", "edited_at", "event_seq"]
        )
        changed = mentions.do_replace_mentions(message, mentionable, message.sender)
        reads.publish_unread(message.room, changed - {message.sender_id}, after=message.seq)
        events.publish_to_room(message.room_id, MessageEdited(message=message_data(message)))
        signals.send_on_commit(
            signals.message_edited, ChatMessage, message=message, room=message.room, user=user
        )
    return message


def check_delete_message(
    user: Any, message: ChatMessage, access: RoomAccess, *, reason: Any = ""
) -> ChatMessage:
    """Delete ``message``: its author, or a moderator (then with an optional ``reason``,
    kept in the audit log)."""
    if not access.can_moderate:
        check_can_participate(access, message.room)
    ratelimit.check_send_rate(user)
    if message.is_deleted:
        return message
    if not get_policy().can_delete_message(user, access, message):
        raise PermissionDenied(_("You can only delete your own messages."))
    return do_delete_message(user, message, reason=clean_reason(reason))


def do_delete_message(user: Any, message: ChatMessage, *, reason: str = "") -> ChatMessage:
    """Soft delete; a message deleted meanwhile stays as it is (no second event). A
    deletion by someone other than the author is a moderation action: audit-logged."""
    try:
        with transaction.atomic():
            event_seq = next_event(message.room_id)
            lock_message(message)
            if message.is_deleted:
                raise Unchanged
            if user is not None and message.sender_id != user.pk:
                audit.record(
                    user,
                    AuditAction.MESSAGE_DELETED,
                    room=message.room,
                    target_user=message.sender,
                    message_id=message.pk,
                    reason=reason,
                )
            message.is_deleted = True
            message.deleted_at = timezone.now()
            message.deleted_by = user
            message.event_seq = event_seq
            message.save(update_fields=["is_deleted", "deleted_at", "deleted_by", "event_seq"])
            notifications.do_message_deleted(message)
            question_updates.on_deleted(message)
            events.publish_to_room(message.room_id, MessageDeleted(message=message_data(message)))
            signals.send_on_commit(
                signals.message_deleted, ChatMessage, message=message, room=message.room, user=user
            )
    except Unchanged:
        pass
    return message


def do_restore_message(message: ChatMessage) -> ChatMessage:
    """Undo a soft delete (admin action); clients receive the message as edited."""
    try:
        with transaction.atomic():
            event_seq = next_event(message.room_id)
            lock_message(message)
            if not message.is_deleted:
                raise Unchanged
            message.is_deleted = False
            message.deleted_at = None
            message.deleted_by = None
            message.event_seq = event_seq
            message.save(update_fields=["is_deleted", "deleted_at", "deleted_by", "event_seq"])
            notifications.do_message_deleted(message)
            events.publish_to_room(message.room_id, MessageEdited(message=message_data(message)))
    except Unchanged:
        pass
    return message
