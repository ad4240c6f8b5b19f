"""Chat data: rooms, their participants and their messages. No side effects live here."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class RoomType(models.TextChoices):
    PUBLIC = "public", _("Public")
    GROUP = "group", _("Group")
    COURSE = "course", _("Course")
    PRIVATE = "private", _("Private")


class Role(models.TextChoices):
    MEMBER = "member", _("Member")
    MODERATOR = "moderator", _("Moderator")
    OWNER = "owner", _("Owner")


class MessageKind(models.TextChoices):
    """Who a message speaks for: a person (its ``sender``), or the site itself (no sender:
    :func:`smartcampus_chat.services.post_system_message`)."""

    USER = "user", _("Message")
    SYSTEM = "system", _("System message")


class ChatRoomQuerySet(models.QuerySet["ChatRoom"]):
    def active(self) -> ChatRoomQuerySet:
        return self.filter(is_archived=False)


class ChatRoom(models.Model):
    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    room_type = models.CharField(
        _("type"), max_length=16, choices=RoomType.choices, default=RoomType.PUBLIC
    )
    description = models.TextField(_("description"), blank=True, max_length=2000)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    is_archived = models.BooleanField(_("archived"), default=False)
    # "Seen by" under messages, in rooms of at most READ_RECEIPTS_MAX_MEMBERS members.
    read_receipts = models.BooleanField(
        _("read receipts"),
        default=True,
        db_default=True,
        help_text=_("Show who has seen the messages (small rooms only)."),
    )
    group = models.ForeignKey(
        Group,
        verbose_name=_("group"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="chat_rooms",
    )
    # Primary key (as text) of an object of the host's SMARTCAMPUS_CHAT["COURSE_MODEL"].
    course_key = models.CharField(_("course"), max_length=64, blank=True, default="")
    # "<smaller user id>:<larger user id>" for private rooms: one room per pair. NULL (not "")
    # for other rooms, so that the unique constraint only concerns private rooms.
    private_key = models.CharField(  # noqa: DJ001
        max_length=64, null=True, blank=True, editable=False
    )
    # Last allocated message number and last change number (messages, edits, deletions).
    last_seq = models.PositiveBigIntegerField(default=0, editable=False)
    last_event_seq = models.PositiveBigIntegerField(default=0, editable=False)
    last_message_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ChatRoomQuerySet.as_manager()

    class Meta:
        verbose_name = _("chat room")
        verbose_name_plural = _("chat rooms")
        ordering = ["name"]
        indexes = [
            models.Index(fields=["room_type", "is_archived"], name="scchat_room_type_idx"),
            models.Index(fields=["group"], name="scchat_room_group_idx"),
            models.Index(fields=["course_key"], name="scchat_room_course_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["private_key"],
                condition=Q(private_key__isnull=False),
                name="scchat_room_private_pair_uniq",
            ),
            models.CheckConstraint(
                condition=~Q(room_type="group") | Q(group__isnull=False),
                name="scchat_room_group_has_group",
            ),
            models.CheckConstraint(
                condition=~Q(room_type="course") | ~Q(course_key=""),
                name="scchat_room_course_has_course",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("smartcampus_chat:room", kwargs={"slug": self.slug})

    @property
    def is_private(self) -> bool:
        return self.room_type == RoomType.PRIVATE


class ChatParticipant(models.Model):
    room = models.ForeignKey(
        ChatRoom, verbose_name=_("room"), on_delete=models.CASCADE, related_name="participants"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="chat_participations",
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.MEMBER)
    joined_at = models.DateTimeField(_("joined"), auto_now_add=True)
    is_online = models.BooleanField(_("online"), default=False)
    last_seen = models.DateTimeField(_("last seen"), null=True, blank=True)
    last_read_seq = models.PositiveBigIntegerField(_("last read message"), default=0)
    # A removed member keeps the row so that they cannot simply join again.
    is_banned = models.BooleanField(_("removed"), default=False)

    class Meta:
        verbose_name = _("participant")
        verbose_name_plural = _("participants")
        constraints = [
            models.UniqueConstraint(fields=["user", "room"], name="scchat_participant_uniq"),
        ]
        indexes = [models.Index(fields=["room", "role"], name="scchat_part_room_role_idx")]

    def __str__(self) -> str:
        return f"{self.user} in {self.room}"


class ChatMessageQuerySet(models.QuerySet["ChatMessage"]):
    def shown(self) -> ChatMessageQuerySet:
        """With what a message's payload shows: its sender, the message it replies to and
        that message's sender (in the same query), its reactions (``reaction_rows``, one
        more query for the lot)."""
        return self.select_related("sender", "reply_to", "reply_to__sender").prefetch_related(
            models.Prefetch(
                "reactions",
                queryset=ChatReaction.objects.select_related("user").order_by("pk"),
                to_attr="reaction_rows",
            ),
            models.Prefetch(
                "attachments",
                queryset=ChatAttachment.objects.order_by("position", "pk"),
                to_attr="attachment_rows",
            ),
        )


class ChatMessage(models.Model):
    room = models.ForeignKey(
        ChatRoom, verbose_name=_("room"), on_delete=models.CASCADE, related_name="messages"
    )
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("sender"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="chat_messages",
    )
    # A system message has no sender; a user message whose sender is gone has none either.
    kind = models.CharField(
        _("kind"),
        max_length=16,
        choices=MessageKind.choices,
        default=MessageKind.USER,
        db_default=MessageKind.USER,
    )
    content = models.TextField(_("content"))
    # ``content`` rendered (Markdown, sanitised) when it was written: the only user-derived
    # HTML a page shows (smartcampus_chat.markup).
    content_html = models.TextField(
        _("content as HTML"), blank=True, default="", db_default="", editable=False
    )
    # Stamped by the send pipeline with the same instant as the room's last_message_at
    # (a default, not auto_now_add, which would overwrite it on insert).
    created_at = models.DateTimeField(
        _("sent"), default=timezone.now, editable=False, db_index=True
    )
    # Per-room message number: 1, 2, 3... with no gaps, allocated inside the sending transaction.
    seq = models.PositiveBigIntegerField(_("number"))
    # Per-room change number of this message's latest change (sent, edited or deleted);
    # clients resume from the last change number they saw.
    event_seq = models.PositiveBigIntegerField(editable=False)
    client_id = models.CharField(_("client id"), max_length=64, blank=True, default="")
    reply_to = models.ForeignKey(
        "self",
        verbose_name=_("reply to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    is_edited = models.BooleanField(_("edited"), default=False)
    edited_at = models.DateTimeField(_("edited at"), null=True, blank=True)
    is_deleted = models.BooleanField(_("deleted"), default=False)
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)
    # Pinned by a moderator (services/pins.py): listed in the room's "Pinned" panel.
    pinned_at = models.DateTimeField(_("pinned at"), null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("deleted by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = ChatMessageQuerySet.as_manager()

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["room", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["room", "seq"], name="scchat_message_room_seq_uniq"),
            models.UniqueConstraint(
                fields=["room", "event_seq"], name="scchat_message_room_event_uniq"
            ),
            models.UniqueConstraint(
                fields=["room", "sender", "client_id"],
                condition=~Q(client_id=""),
                name="scchat_message_client_id_uniq",
            ),
        ]
        indexes = [
            models.Index(fields=["sender", "created_at"], name="scchat_msg_sender_idx"),
            # The room's "Pinned" panel: few rows per room.
            models.Index(
                fields=["room", "pinned_at"],
                condition=models.Q(pinned_at__isnull=False),
                name="scchat_msg_pinned_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} in {self.room_id}"


class ChatReaction(models.Model):
    """One person's emoji on one message (services/reactions.py: a set, at most once)."""

    message = models.ForeignKey(
        ChatMessage, verbose_name=_("message"), on_delete=models.CASCADE, related_name="reactions"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="chat_reactions",
    )
    #: One emoji, fully qualified (domain.reactions.clean_emoji).
    emoji = models.CharField(_("emoji"), max_length=32)
    created_at = models.DateTimeField(_("added"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("reaction")
        verbose_name_plural = _("reactions")
        constraints = [
            models.UniqueConstraint(
                fields=["message", "user", "emoji"], name="scchat_reaction_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.emoji} on {self.message_id}"


class AttachmentKind(models.TextChoices):
    IMAGE = "image", _("Image")
    FILE = "file", _("File")


class ChatAttachment(models.Model):
    """A file uploaded into a room (services/attachments.py), then sent with a message.

    Stored under a random name (``storage_name``) in ``ATTACHMENT_STORAGE``; ``name`` is the
    uploader's file name, shown and sent in ``Content-Disposition``, never a path. Until a
    message takes it (``message``), only its uploader sees it; images are stored
    re-encoded (metadata stripped), with ``thumbnails`` beside them.
    """

    room = models.ForeignKey(
        ChatRoom, verbose_name=_("room"), on_delete=models.CASCADE, related_name="attachments"
    )
    uploader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploader"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="chat_attachments",
    )
    # Null until sent; set null again if the message is erased for good (then purged).
    message = models.ForeignKey(
        ChatMessage,
        verbose_name=_("message"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="attachments",
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    name = models.CharField(_("file name"), max_length=255)
    storage_name = models.CharField(_("stored as"), max_length=255, editable=False)
    content_type = models.CharField(_("type"), max_length=128)
    kind = models.CharField(_("kind"), max_length=8, choices=AttachmentKind.choices)
    size = models.PositiveBigIntegerField(_("size"))
    sha256 = models.CharField(_("SHA-256"), max_length=64, editable=False)
    width = models.PositiveIntegerField(_("width"), null=True, blank=True)
    height = models.PositiveIntegerField(_("height"), null=True, blank=True)
    #: ``{"small": {"name", "width", "height"}, "large": {...}}``: stored thumbnails.
    thumbnails = models.JSONField(_("thumbnails"), default=dict, blank=True, editable=False)
    created_at = models.DateTimeField(_("uploaded"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        indexes = [
            # The room's files page, newest first; and one user's uploads of the day.
            models.Index(fields=["room", "message"], name="scchat_attach_room_idx"),
            models.Index(fields=["uploader", "created_at"], name="scchat_attach_quota_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class ChatMention(models.Model):
    """A message mentions a person (``user``), or every member of its room (no ``user``).

    Written by the send and edit services from the mentions the renderer marked (never
    parsed again): the rooms' mention counts, "mentions me" and the ``users_mentioned``
    signal read these rows.
    """

    message = models.ForeignKey(
        ChatMessage, verbose_name=_("message"), on_delete=models.CASCADE, related_name="mentions"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="chat_mentions",
    )

    class Meta:
        verbose_name = _("mention")
        verbose_name_plural = _("mentions")
        constraints = [
            models.UniqueConstraint(fields=["message", "user"], name="scchat_mention_once"),
            models.UniqueConstraint(
                fields=["message"],
                condition=models.Q(user__isnull=True),
                name="scchat_mention_everyone_once",
            ),
        ]
        indexes = [models.Index(fields=["user", "message"], name="scchat_mention_user_idx")]

    def __str__(self) -> str:
        return f"@{self.user_id or 'everyone'} in {self.message_id}"


class ChatPreferences(models.Model):
    """One person's choices about the chat (defaults when they have no row)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="chat_preferences",
    )
    # Others see when this person read their messages, and they see others' (both or none).
    read_receipts = models.BooleanField(
        _("read receipts"),
        default=True,
        help_text=_(
            "Show others when you have seen their messages, and see when they have seen yours."
        ),
    )

    class Meta:
        verbose_name = _("chat preferences")
        verbose_name_plural = _("chat preferences")

    def __str__(self) -> str:
        return f"preferences of {self.user_id}"


class ChatConnection(models.Model):
    """One open WebSocket, wherever it is served: the presence store shared by processes.

    A process refreshes ``last_heartbeat`` of its connections every ``PRESENCE_HEARTBEAT``
    seconds; rows older than ``PRESENCE_TIMEOUT`` belong to a process that died and are
    swept by any live process (see :mod:`smartcampus_chat.realtime.presence`).
    """

    channel_name = models.CharField(max_length=200, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_connections"
    )
    # "<host>:<pid>:<random>" of the serving process.
    server = models.CharField(max_length=120)
    connected_at = models.DateTimeField(auto_now_add=True)
    last_heartbeat = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("live connection")
        verbose_name_plural = _("live connections")
        indexes = [
            models.Index(fields=["user"], name="scchat_conn_user_idx"),
            models.Index(fields=["server"], name="scchat_conn_server_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} on {self.server}"
