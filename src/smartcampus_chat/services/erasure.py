"""Erasing a person from the chat (docs/data-export.md, "Erasure"): their personal data
goes, the conversations they were part of keep their shape for the others.

:func:`do_erase_user` removes their reactions, memberships, notifications (and their name
from the others' notifications), push subscriptions, preferences, the mentions of them,
their exports and the uploads they never sent. Their messages are either kept without a
sender (shown under "Former member") or deleted with their text, files and link preview
wiped (``messages="delete"``); a message of theirs deleted earlier loses its text either
way (it was kept for audit, and is theirs). Every message keeps its number, so replies,
read markers and resuming clients stay consistent; each change takes the room's next
change number and is published like an edit or a deletion. The audit log keeps its
entries, but the labels naming them become a pseudonym (the same for every entry of
one person, so an auditor can still follow them). Their open sockets are closed.

Running it again changes nothing more (idempotent): what was erased is not found again.
The user row itself stays unless ``delete_account`` (hosts often keep accounts elsewhere).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from smartcampus_chat.conf import app_settings
from smartcampus_chat.exceptions import ValidationFailed
from smartcampus_chat.infra import file_store
from smartcampus_chat.models import (
    AuditAction,
    ChatAttachment,
    ChatAuditEntry,
    ChatExport,
    ChatLinkPreview,
    ChatMention,
    ChatMessage,
    ChatMessageEdit,
    ChatNotification,
    ChatParticipant,
    ChatPoll,
    ChatPollVote,
    ChatPreferences,
    ChatPushSubscription,
    ChatReaction,
    ChatReport,
    ChatRoom,
    ExportKind,
    ReportCategory,
)
from smartcampus_chat.protocol.frames import (
    MessageDeleted,
    MessageEdited,
    MessageReactions,
)
from smartcampus_chat.protocol.render import message_data, poll_of
from smartcampus_chat.realtime import events
from smartcampus_chat.services import audit, notifications, polls
from smartcampus_chat.services.attachments import stored_names
from smartcampus_chat.services.members import announce_left
from smartcampus_chat.services.messages import lock_message, next_event

MODES = ("keep", "delete")
#: Messages changed per transaction (each takes its room's lock for that long).
BATCH = 100


@dataclass(frozen=True)
class ErasureCounts:
    """What one erasure changed (the ``USER_ERASED`` audit entry's details)."""

    messages_kept: int = 0
    messages_deleted: int = 0
    reactions: int = 0
    #: Their votes in polls (docs/polls.md), each poll published with what is left.
    poll_votes: int = 0
    memberships: int = 0
    notifications: int = 0
    push_subscriptions: int = 0
    preferences: int = 0
    mentions: int = 0
    unsent_uploads: int = 0
    exports: int = 0
    #: Reports they made (kept for the moderators, without them or their note) and
    #: messages of theirs held by the word filter (deleted: never sent).
    reports: int = 0
    held: int = 0
    audit_entries: int = 0
    account_deleted: bool = False


def pseudonym(user_id: int) -> str:
    """The label an erased person's audit entries carry: stable for one person, and
    nobody can work back to the account without the site's ``SECRET_KEY``."""
    return (
        "erased-"
        + salted_hmac("smartcampus_chat.erasure", str(user_id), algorithm="sha256").hexdigest()[:12]
    )


def check_erase_user(
    user: Any, *, messages: str | None = None, actor: Any = None, delete_account: bool = False
) -> ErasureCounts:
    """Erase ``user`` (staff, a command: the caller's own permissions stand in for the
    policy); ``messages``: "keep" or "delete", ``ERASURE_MESSAGES`` when not given."""
    mode = messages or app_settings.ERASURE_MESSAGES
    if mode not in MODES:
        text = _("Choose what happens to the messages: keep or delete.")
        raise ValidationFailed(text, fields={"messages": [text]})
    return do_erase_user(user, messages=mode, actor=actor, delete_account=delete_account)


def do_erase_user(
    user: Any, *, messages: str = "keep", actor: Any = None, delete_account: bool = False
) -> ErasureCounts:
    """Erase ``user``'s personal data in the chat (see the module's docstring); the counts."""
    deleting = messages == "delete"
    kept, deleted = _messages(user, actor, delete=deleting)
    reactions = _reactions(user)
    poll_votes = _poll_votes(user)
    user_id = user.pk
    with transaction.atomic():
        memberships = _memberships(user)
        notified = (
            ChatNotification.objects.filter(user=user)
            .delete()[1]
            .get(ChatNotification._meta.label, 0)
        )
        ChatNotification.objects.filter(actor=user).update(actor=None)
        subscriptions = ChatPushSubscription.objects.filter(user=user).delete()[0]
        preferences = ChatPreferences.objects.filter(user=user).delete()[0]
        mentions = ChatMention.objects.filter(user=user).delete()[0]
        unsent = list(ChatAttachment.objects.filter(uploader=user, message__isnull=True))
        files = stored_names(unsent)
        ChatAttachment.objects.filter(pk__in=[row.pk for row in unsent]).delete()
        ChatAttachment.objects.filter(uploader=user).update(uploader=None)
        ChatRoom.objects.filter(created_by=user).update(created_by=None)
        ChatMessage.objects.filter(deleted_by=user).update(deleted_by=None)
        exports = list(ChatExport.objects.filter(user=user, kind=ExportKind.USER))
        files += [export.storage_name for export in exports if export.storage_name]
        ChatExport.objects.filter(pk__in=[export.pk for export in exports]).delete()
        reports, held = _reports(user, delete=deleting)
        counts = ErasureCounts(
            messages_kept=kept,
            messages_deleted=deleted,
            reactions=reactions,
            poll_votes=poll_votes,
            memberships=memberships,
            notifications=notified,
            push_subscriptions=subscriptions,
            preferences=preferences,
            mentions=mentions,
            unsent_uploads=len(unsent),
            exports=len(exports),
            reports=reports,
            held=held,
            account_deleted=delete_account,
        )
        entry = audit.record(
            actor,
            AuditAction.USER_ERASED,
            target_user=user,
            details={"messages": messages, **asdict(counts)},
        )
        # The audit log is append-only (ChatAuditEntry.save raises), but for this: the
        # labels naming the person become their pseudonym, this run's entry included.
        label = pseudonym(user_id)
        named = ChatAuditEntry.objects.filter(actor=user).exclude(actor_label=label)
        renamed = named.exclude(pk=entry.pk).count()
        named.update(actor_label=label)
        about = ChatAuditEntry.objects.filter(target_user=user).exclude(target_label=label)
        renamed += about.exclude(pk=entry.pk).count()
        about.update(target_label=label)
        ChatReport.objects.filter(author=user).update(author=None, author_label=label)
        events.notify_session_ended(user_id)
        if delete_account:
            user.delete()
        transaction.on_commit(lambda: file_store.delete(files))
    return ErasureCounts(**{**asdict(counts), "audit_entries": renamed})


def _reports(user: Any, *, delete: bool) -> tuple[int, int]:
    """The moderation queue: their held messages go (never sent); the reports they made
    stay for the moderators without their name or note; reports of their messages keep
    the reported text in ``keep`` mode (as the room does) and lose it in ``delete``."""
    held = ChatReport.objects.filter(author=user, category=ReportCategory.FILTERED).delete()[0]
    reports = ChatReport.objects.filter(reporter=user).update(reporter=None, note="")
    if delete:
        ChatReport.objects.filter(author=user).update(content="")
    return reports, held


def _messages(user: Any, actor: Any, *, delete: bool) -> tuple[int, int]:
    """Their messages, :data:`BATCH` per transaction: kept without a sender, or deleted
    with their content wiped; (kept, deleted)."""
    kept = deleted = 0
    while True:
        batch = list(
            ChatMessage.objects.filter(sender=user).select_related("room").order_by("pk")[:BATCH]
        )
        if not batch:
            return kept, deleted
        with transaction.atomic():
            for message in batch:
                if _erase_message(message, actor, delete=delete):
                    deleted += 1
                else:
                    kept += 1


def _erase_message(message: ChatMessage, actor: Any, *, delete: bool) -> bool:
    """One message of theirs, under its room's and its own lock; whether it is deleted."""
    event_seq = next_event(message.room_id)
    lock_message(message)
    fields = ["sender", "event_seq"]
    message.sender = None
    message.event_seq = event_seq
    if delete and not message.is_deleted:
        message.is_deleted = True
        message.deleted_at = timezone.now()
        message.deleted_by = actor
        fields += ["is_deleted", "deleted_at", "deleted_by"]
    if message.is_deleted:
        message.content = ""
        message.content_html = ""
        fields += ["content", "content_html"]
        files = list(ChatAttachment.objects.filter(message=message))
        previews = ChatLinkPreview.objects.filter(message=message).exclude(image_storage_name="")
        names = stored_names(files) + list(previews.values_list("image_storage_name", flat=True))
        ChatAttachment.objects.filter(message=message).delete()
        ChatLinkPreview.objects.filter(message=message).delete()
        ChatMention.objects.filter(message=message).delete()
        # A poll's options are the author's text too (its votes go with them).
        ChatPoll.objects.filter(message=message).delete()
        # The earlier texts of an edited message are theirs too (the moderators' history).
        ChatMessageEdit.objects.filter(message=message).delete()
        transaction.on_commit(lambda: file_store.delete(names))
    message.save(update_fields=fields)
    shown = ChatMessage.objects.shown().get(pk=message.pk)
    data = message_data(shown, room_slug=message.room.slug)
    if message.is_deleted:
        notifications.do_message_deleted(message)
        events.publish_to_room(message.room_id, MessageDeleted(message=data))
    else:
        events.publish_to_room(message.room_id, MessageEdited(message=data))
    return message.is_deleted


def _reactions(user: Any) -> int:
    """Their reactions, message by message (each message published with what is left)."""
    removed = 0
    while True:
        message_ids = list(
            ChatReaction.objects.filter(user=user)
            .order_by("message_id")
            .values_list("message_id", flat=True)
            .distinct()[:BATCH]
        )
        if not message_ids:
            return removed
        with transaction.atomic():
            for message in ChatMessage.objects.filter(pk__in=message_ids).select_related("room"):
                message.event_seq = next_event(message.room_id)
                lock_message(message)
                removed += ChatReaction.objects.filter(message=message, user=user).delete()[0]
                message.save(update_fields=["event_seq"])
                shown = ChatMessage.objects.shown().get(pk=message.pk)
                data = message_data(shown, room_slug=message.room.slug)
                events.publish_to_room(message.room_id, MessageReactions(message=data))


def _poll_votes(user: Any) -> int:
    """Their votes, poll by poll (each poll published with what is left: the counts, and
    the voters of a poll that names them)."""
    removed = 0
    while True:
        poll_ids = list(
            ChatPollVote.objects.filter(user=user)
            .order_by("poll_id")
            .values_list("poll_id", flat=True)
            .distinct()[:BATCH]
        )
        if not poll_ids:
            return removed
        with transaction.atomic():
            for message in ChatMessage.objects.filter(pk__in=poll_ids).select_related("room"):
                message.event_seq = next_event(message.room_id)
                lock_message(message)
                removed += ChatPollVote.objects.filter(poll_id=message.pk, user=user).delete()[0]
                message.save(update_fields=["event_seq"])
                shown = ChatMessage.objects.shown().get(pk=message.pk)
                poll = poll_of(shown)
                if poll is not None and not shown.is_deleted:
                    polls.publish_poll(shown, poll)


def _memberships(user: Any) -> int:
    """Their memberships, each announced as leaving (a removed one was announced then)."""
    rows = list(ChatParticipant.objects.filter(user=user).select_related("room"))
    ChatParticipant.objects.filter(pk__in=[row.pk for row in rows]).delete()
    for row in rows:
        if not row.is_banned:
            announce_left(user, row.room)
    return len(rows)
