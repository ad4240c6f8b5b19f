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


class NotifyLevel(models.TextChoices):
    """Which messages of a room notify a member."""

    ALL = "all", _("All messages")
    MENTIONS = "mentions", _("Mentions and replies")
    NOTHING = "nothing", _("Nothing")


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
    # Which of the room's messages notify this member (docs/notifications.md): empty is the
    # site's default for the room's type (NOTIFY_DEFAULT_LEVELS).
    notify_level = models.CharField(
        _("notifications"),
        max_length=16,
        choices=[("", _("Default")), *NotifyLevel.choices],
        blank=True,
        default="",
        db_default="",
    )
    # No notification at all from this room until then (the room list shows it dimmed).
    muted_until = models.DateTimeField(_("muted until"), null=True, blank=True)

    class Meta:
        verbose_name = _("participant")
        verbose_name_plural = _("participants")
        constraints = [
            models.UniqueConstraint(fields=["user", "room"], name="scchat_participant_uniq"),
        ]
        indexes = [
            models.Index(fields=["room", "role"], name="scchat_part_room_role_idx"),
            # The notify step's "who wants every message of these rooms": few rows.
            models.Index(
                fields=["room", "notify_level"],
                condition=~Q(notify_level=""),
                name="scchat_part_notify_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.room}"


class ChatMessageQuerySet(models.QuerySet["ChatMessage"]):
    def shown(self) -> ChatMessageQuerySet:
        """With what a message's payload shows: its sender, the message it replies to and
        that message's sender and its link preview (in the same query), its reactions
        (``reaction_rows``) and files (``attachment_rows``), one more query each for the
        lot."""
        return self.select_related(
            "sender", "reply_to", "reply_to__sender", "link_preview"
        ).prefetch_related(
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


class PreviewStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Failed")


class ChatLinkPreview(models.Model):
    """The preview of the first link of a message (services/link_previews.py): written
    ``pending`` with the message, filled in (``ready``) or given up (``failed``) once the
    page was fetched off the request path; ``removed`` by the author. The image, if any,
    is a re-encoded JPEG stored under a random name in ``ATTACHMENT_STORAGE``.
    """

    message = models.OneToOneField(
        ChatMessage,
        verbose_name=_("message"),
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="link_preview",
    )
    url = models.URLField(_("URL"), max_length=2048)
    status = models.CharField(
        _("status"), max_length=8, choices=PreviewStatus.choices, default=PreviewStatus.PENDING
    )
    title = models.CharField(_("title"), max_length=200, blank=True)
    description = models.CharField(_("description"), max_length=500, blank=True)
    site_name = models.CharField(_("site name"), max_length=100, blank=True)
    image_storage_name = models.CharField(_("image stored as"), max_length=255, blank=True)
    image_size = models.PositiveIntegerField(_("image size"), default=0)
    image_width = models.PositiveIntegerField(_("image width"), null=True, blank=True)
    image_height = models.PositiveIntegerField(_("image height"), null=True, blank=True)
    fetched_at = models.DateTimeField(_("fetched"), null=True, blank=True)
    removed = models.BooleanField(_("removed by the author"), default=False)

    class Meta:
        verbose_name = _("link preview")
        verbose_name_plural = _("link previews")
        indexes = [
            # The pending ones (manage.py chat_link_previews).
            models.Index(fields=["status"], name="scchat_preview_status_idx"),
        ]

    def __str__(self) -> str:
        return self.url


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

    # Notifications (docs/notifications.md). A null choice is the site's default
    # (NOTIFY_PUSH_DEFAULT, NOTIFY_EMAIL_DEFAULT, NOTIFY_BROWSER_DEFAULT,
    # NOTIFY_DIGEST_DELAY).
    browser_notifications = models.BooleanField(_("browser notifications"), null=True, blank=True)
    push_notifications = models.BooleanField(_("push notifications"), null=True, blank=True)
    email_digests = models.BooleanField(_("e-mail digests"), null=True, blank=True)
    # Minutes a notification stays unread before it goes into an e-mail digest.
    digest_delay = models.PositiveIntegerField(_("digest delay (minutes)"), null=True, blank=True)
    # Push notifications of private rooms show the message's text (off: "New message").
    push_private_content = models.BooleanField(
        _("message text in push notifications of private rooms"), default=False
    )
    # No browser or push notification between these times of the person's day (both set;
    # the start may be after the end: 22:00-07:00), in ``time_zone`` (empty: the site's).
    quiet_hours_start = models.TimeField(_("quiet hours from"), null=True, blank=True)
    quiet_hours_end = models.TimeField(_("quiet hours until"), null=True, blank=True)
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True, default="")
    # The language of e-mails and push texts (empty: the site's LANGUAGE_CODE).
    language = models.CharField(_("language"), max_length=16, blank=True, default="")

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


class NotificationKind(models.TextChoices):
    """Why a person is notified of a message (the strongest reason when several hold)."""

    MENTION = "mention", _("Mention")
    REPLY = "reply", _("Reply")
    PRIVATE = "private", _("Private message")
    MESSAGE = "message", _("Message")


class ChatNotification(models.Model):
    """A person is told of a message (docs/notifications.md): the notification centre's row.

    Written in bulk by the notify step (:mod:`smartcampus_chat.services.notifications`)
    after the message's transaction commits; one per person and message.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="chat_notifications",
    )
    kind = models.CharField(_("kind"), max_length=16, choices=NotificationKind.choices)
    room = models.ForeignKey(
        ChatRoom, verbose_name=_("room"), on_delete=models.CASCADE, related_name="+"
    )
    message = models.ForeignKey(
        ChatMessage,
        verbose_name=_("message"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("from"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [
            models.UniqueConstraint(fields=["user", "message"], name="scchat_notification_once"),
        ]
        indexes = [
            models.Index(fields=["user", "-id"], name="scchat_notif_user_idx"),
            models.Index(
                fields=["user", "room"],
                condition=Q(read_at__isnull=True),
                name="scchat_notif_unread_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.user_id}: {self.message_id}"


class DeliveryChannel(models.TextChoices):
    PUSH = "push", _("Web Push")
    EMAIL = "email", _("E-mail")


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    SKIPPED = "skipped", _("Not sent")
    FAILED = "failed", _("Failed")


class ChatNotificationDelivery(models.Model):
    """One notification through one channel (Web Push, e-mail): its idempotency key.

    A row is claimed (``sending``) before its channel is called and never sent twice: a
    worker that dies mid-send leaves it ``sending``, and it ends ``failed`` after the lease
    rather than being sent again (at most once).
    """

    notification = models.ForeignKey(
        ChatNotification,
        verbose_name=_("notification"),
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    channel = models.CharField(_("channel"), max_length=16, choices=DeliveryChannel.choices)
    state = models.CharField(
        _("state"), max_length=16, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    due_at = models.DateTimeField(_("due"), default=timezone.now)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    # Why it was not sent, or the last error.
    detail = models.CharField(_("detail"), max_length=200, blank=True, default="")

    class Meta:
        verbose_name = _("notification delivery")
        verbose_name_plural = _("notification deliveries")
        constraints = [
            models.UniqueConstraint(
                fields=["notification", "channel"], name="scchat_delivery_once"
            ),
        ]
        indexes = [
            models.Index(
                fields=["due_at"],
                condition=Q(state="pending"),
                name="scchat_delivery_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} of {self.notification_id}: {self.state}"


class ChatPushSubscription(models.Model):
    """One browser's Web Push subscription (docs/notifications.md, "Web Push")."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="chat_push_subscriptions",
    )
    endpoint = models.URLField(_("endpoint"), max_length=2048)
    # SHA-256 of the endpoint, hex: the unique key (an index on 2 KB of text is not).
    endpoint_hash = models.CharField(max_length=64, unique=True, editable=False)
    p256dh = models.CharField(_("public key"), max_length=128)
    auth = models.CharField(_("auth secret"), max_length=64)
    user_agent = models.CharField(_("browser"), max_length=255, blank=True, default="")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_success_at = models.DateTimeField(_("last delivered"), null=True, blank=True)
    failures = models.PositiveSmallIntegerField(_("failures in a row"), default=0)

    class Meta:
        verbose_name = _("push subscription")
        verbose_name_plural = _("push subscriptions")
        indexes = [models.Index(fields=["user"], name="scchat_push_user_idx")]

    def __str__(self) -> str:
        return f"push subscription of {self.user_id}"
