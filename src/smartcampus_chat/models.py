"""Chat data: rooms, their participants and their messages. No side effects live here."""

from __future__ import annotations

from typing import Any

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
    #: Reads the room and reacts to nothing: a guest, an auditor (set per member).
    READ_ONLY = "read_only", _("Read-only")
    MEMBER = "member", _("Member")
    MODERATOR = "moderator", _("Moderator")
    OWNER = "owner", _("Owner")


class MessageKind(models.TextChoices):
    """Who a message speaks for: a person (its ``sender``), or the site itself (no sender:
    :func:`smartcampus_chat.services.post_system_message`)."""

    USER = "user", _("Message")
    SYSTEM = "system", _("System message")
    #: Posted by a moderator as an announcement (docs/announcements.md), maybe to be
    #: acknowledged by the room's members.
    ANNOUNCEMENT = "announcement", _("Announcement")


class RetentionKind(models.TextChoices):
    """How long a room keeps its messages (``RETENTION``, a room's own override: the
    purge, docs/retention.md). ``""``: what the site sets for the room's type."""

    SITE = "", _("As the site sets for this type of room")
    FOREVER = "forever", _("Keep forever")
    DAYS = "days", _("N days after each message")
    DAYS_AFTER_ARCHIVE = "days_after_archive", _("N days after the room is archived")


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
    # When it was archived (services/rooms.py); NULL for rooms archived before it was kept.
    archived_at = models.DateTimeField(_("archived at"), null=True, blank=True, editable=False)
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
    # Moderation (services/room_moderation.py): one message per N seconds per member
    # (0: off; moderators exempt), and only moderators post while locked.
    slow_mode_seconds = models.PositiveIntegerField(
        _("slow mode (seconds)"), default=0, db_default=0
    )
    is_locked = models.BooleanField(
        _("locked"),
        default=False,
        db_default=False,
        help_text=_("Only moderators may post (announcement mode)."),
    )
    # Students may post anonymously to their classmates here (docs/anonymous-posts.md).
    allow_anonymous = models.BooleanField(
        _("allow anonymous posts"),
        default=False,
        db_default=False,
        help_text=_("Students may post anonymously to classmates; moderators can reveal."),
    )
    # Polls (docs/polls.md): whether members, not only moderators, may post one.
    members_can_create_polls = models.BooleanField(
        _("members create polls"),
        default=False,
        db_default=False,
        help_text=_("Members, not only moderators, may post polls."),
    )
    # The room's own word filter (domain/word_filter.py), one word or phrase per line, on
    # top of the site's WORD_FILTER.
    word_filter = models.TextField(
        _("word filter"),
        blank=True,
        default="",
        db_default="",
        max_length=5000,
        help_text=_("Words or phrases refused or held for review here, one per line."),
    )

    # Q&A mode (services/questions.py, docs/questions.md): top-level posts are questions,
    # replies their answers; votes, endorsements and resolution in their own tables.
    qa_mode = models.BooleanField(
        _("Q&A mode"),
        default=False,
        db_default=False,
        help_text=_("Top-level posts are questions, replies are answers."),
    )

    # Retention (services/retention.py): a room's own rule instead of the site's for its
    # type, set by staff in the admin only (docs/retention.md).
    retention = models.CharField(
        _("retention"),
        max_length=24,
        choices=RetentionKind.choices,
        blank=True,
        default=RetentionKind.SITE,
        db_default=RetentionKind.SITE,
    )
    retention_days = models.PositiveIntegerField(
        _("retention (days)"),
        null=True,
        blank=True,
        help_text=_("The N of the retention rule."),
    )
    # The purge's watermark: no message numbered up to this exists any more (clients
    # resuming learn it: a gap, not an error). And the newest change number of a message
    # purged out of order (a deleted one past its grace period, above the watermark).
    purged_through_seq = models.PositiveBigIntegerField(default=0, db_default=0, editable=False)
    purged_event_seq = models.PositiveBigIntegerField(default=0, db_default=0, editable=False)
    # Terms (services/terms.py, docs/terms.md): when the course ends (a course room and its
    # sections become read-only from then on), filled by the course sync and the
    # ``course_changed`` hook from the host's COURSE_END; NULL: no end known.
    ends_at = models.DateTimeField(_("course ends"), null=True, blank=True, editable=False)
    # The host's key of the course section or project group this room is for (NULL: the
    # course's main room, or not a course room).
    section_key = models.CharField(  # noqa: DJ001
        _("section"), max_length=64, null=True, blank=True, editable=False
    )

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
            models.UniqueConstraint(
                fields=["course_key", "section_key"],
                condition=Q(section_key__isnull=False),
                name="scchat_room_course_section_uniq",
            ),
            models.CheckConstraint(
                condition=~Q(room_type="group") | Q(group__isnull=False),
                name="scchat_room_group_has_group",
            ),
            models.CheckConstraint(
                condition=~Q(room_type="course") | ~Q(course_key=""),
                name="scchat_room_course_has_course",
            ),
            models.CheckConstraint(
                condition=Q(retention__in=["", "forever"], retention_days__isnull=True)
                | Q(retention__in=["days", "days_after_archive"], retention_days__gt=0),
                name="scchat_room_retention_days",
                violation_error_message=_(
                    "A number of days goes with “N days after…” rules, and only with them."
                ),
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
    # A removed (banned) member keeps the row so that they cannot simply join again;
    # ``banned_until`` ends the ban by itself (checked at use: no job); None: indefinitely.
    is_banned = models.BooleanField(_("removed"), default=False)
    banned_until = models.DateTimeField(_("banned until"), null=True, blank=True)
    # Muted by a moderator (services/sanctions.py): reads, cannot post or react until then.
    # Not ``muted_until`` below, which is the member silencing the room's notifications.
    silenced_until = models.DateTimeField(_("muted by a moderator until"), null=True, blank=True)
    # Why the current ban or mute was given (shown to the person concerned).
    sanction_reason = models.CharField(
        _("reason"), max_length=500, blank=True, default="", db_default=""
    )
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
            "sender", "reply_to", "reply_to__sender", "link_preview", "poll"
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
            # A poll's options and votes (docs/polls.md): no query for a page without one.
            models.Prefetch(
                "poll__options",
                queryset=ChatPollOption.objects.order_by("position"),
                to_attr="option_rows",
            ),
            models.Prefetch(
                "poll__votes",
                queryset=ChatPollVote.objects.select_related("user").order_by("pk"),
                to_attr="vote_rows",
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
    # An announcement its members are asked to acknowledge (services/announcements.py),
    # by ``ack_due`` if set. Columns with database defaults: the batch's hand-written
    # INSERT of user messages leaves them out.
    requires_ack = models.BooleanField(
        _("requires acknowledgement"), default=False, db_default=False
    )
    ack_due = models.DateTimeField(_("acknowledge by"), null=True, blank=True)
    # Shown to the room as "Anonymous classmate" (protocol/render.py, the one place that
    # decides); ``sender`` stays the real author for edits, deletion, erasure, the author's
    # own export and a moderator's audited reveal (services/anonymity.py).
    anonymous = models.BooleanField(_("anonymous"), default=False, db_default=False)
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
            # The purge of deleted messages past their grace period (services/retention.py).
            models.Index(
                fields=["deleted_at"],
                condition=models.Q(is_deleted=True),
                name="scchat_msg_deleted_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} in {self.room_id}"


class ChatAnnouncementAck(models.Model):
    """A member acknowledged an announcement ("I have read this"): once per person."""

    message = models.ForeignKey(
        ChatMessage, verbose_name=_("announcement"), on_delete=models.CASCADE, related_name="acks"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="chat_announcement_acks",
    )
    acked_at = models.DateTimeField(_("acknowledged"), default=timezone.now)

    class Meta:
        verbose_name = _("acknowledgement")
        verbose_name_plural = _("acknowledgements")
        constraints = [
            models.UniqueConstraint(fields=["message", "user"], name="scchat_ack_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} acknowledged {self.message_id}"


class ChatQuestionVote(models.Model):
    """A member's up-vote of a question (a top-level message of a room in Q&A mode): once
    per person. The count is counted, never kept: concurrent votes cannot lose one."""

    question = models.ForeignKey(
        ChatMessage,
        verbose_name=_("question"),
        on_delete=models.CASCADE,
        related_name="question_votes",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="chat_question_votes",
    )
    voted_at = models.DateTimeField(_("voted"), default=timezone.now)

    class Meta:
        verbose_name = _("question vote")
        verbose_name_plural = _("question votes")
        constraints = [
            models.UniqueConstraint(fields=["question", "user"], name="scchat_qvote_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} voted for {self.question_id}"


class ChatQuestionResolution(models.Model):
    """A question marked resolved (by a moderator, staff, or its author); no row: open."""

    question = models.OneToOneField(
        ChatMessage,
        verbose_name=_("question"),
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="resolution",
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("resolved by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    resolved_at = models.DateTimeField(_("resolved"), default=timezone.now)

    class Meta:
        verbose_name = _("resolved question")
        verbose_name_plural = _("resolved questions")

    def __str__(self) -> str:
        return f"{self.question_id} resolved"


class ChatAnswerEndorsement(models.Model):
    """An answer (a reply to a question) endorsed by a teacher or TA; no row: not endorsed."""

    answer = models.OneToOneField(
        ChatMessage,
        verbose_name=_("answer"),
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="endorsement",
    )
    #: The answer's question (its ``reply_to``), kept to read a question's endorsements.
    question = models.ForeignKey(
        ChatMessage,
        verbose_name=_("question"),
        on_delete=models.CASCADE,
        related_name="endorsed_answers",
    )
    endorsed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("endorsed by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    endorsed_at = models.DateTimeField(_("endorsed"), default=timezone.now)

    class Meta:
        verbose_name = _("endorsed answer")
        verbose_name_plural = _("endorsed answers")

    def __str__(self) -> str:
        return f"{self.answer_id} endorsed"


class ChatPoll(models.Model):
    """A poll (docs/polls.md): a message (its text is the question) with options to vote
    for. Closed by its author or a moderator (``closed_at``), or by time (``closes_at``,
    read at each use: no job needed)."""

    message = models.OneToOneField(
        ChatMessage,
        verbose_name=_("message"),
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="poll",
    )
    multiple = models.BooleanField(_("multiple choice"), default=False)
    anonymous = models.BooleanField(_("anonymous"), default=False)
    closes_at = models.DateTimeField(_("closes at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("closed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("poll")
        verbose_name_plural = _("polls")

    def __str__(self) -> str:
        return f"poll {self.message_id}"

    def is_closed(self, now: Any = None) -> bool:
        """Closed by hand, or its closing time has come (read at each use)."""
        if self.closed_at is not None:
            return True
        return self.closes_at is not None and self.closes_at <= (now or timezone.now())


class ChatPollOption(models.Model):
    """One answer of a poll, in its place (``position``, from 0)."""

    poll = models.ForeignKey(
        ChatPoll, verbose_name=_("poll"), on_delete=models.CASCADE, related_name="options"
    )
    position = models.PositiveSmallIntegerField(_("position"))
    text = models.CharField(_("text"), max_length=200)

    class Meta:
        verbose_name = _("poll option")
        verbose_name_plural = _("poll options")
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["poll", "position"], name="scchat_poll_option_pos"),
        ]

    def __str__(self) -> str:
        return self.text


class ChatPollVote(models.Model):
    """A person's vote for one option (a multiple-choice poll: one row per option chosen).
    One choice per person in a single-choice poll: the vote service replaces a person's
    rows under the poll's row lock."""

    poll = models.ForeignKey(
        ChatPoll, verbose_name=_("poll"), on_delete=models.CASCADE, related_name="votes"
    )
    option = models.ForeignKey(
        ChatPollOption, verbose_name=_("option"), on_delete=models.CASCADE, related_name="votes"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="chat_poll_votes",
    )
    voted_at = models.DateTimeField(_("voted"), default=timezone.now)

    class Meta:
        verbose_name = _("poll vote")
        verbose_name_plural = _("poll votes")
        constraints = [
            models.UniqueConstraint(fields=["option", "user"], name="scchat_poll_vote_once"),
        ]
        indexes = [models.Index(fields=["poll", "user"], name="scchat_poll_vote_user")]

    def __str__(self) -> str:
        return f"{self.user_id} voted {self.option_id}"


class ReminderStage(models.TextChoices):
    POSTED = "posted", _("When posted")
    DUE = "due", _("Before the due date")


class ChatAnnouncementReminder(models.Model):
    """One reminder stage of an announcement, done: the reminders' idempotency key (a
    stage is never sent twice, whatever the number of runs of the reminder job)."""

    message = models.ForeignKey(
        ChatMessage,
        verbose_name=_("announcement"),
        on_delete=models.CASCADE,
        related_name="ack_reminders",
    )
    stage = models.CharField(_("stage"), max_length=8, choices=ReminderStage.choices)
    sent_at = models.DateTimeField(_("sent"), default=timezone.now)
    recipients = models.PositiveIntegerField(_("recipients"), default=0)

    class Meta:
        verbose_name = _("announcement reminder")
        verbose_name_plural = _("announcement reminders")
        constraints = [
            models.UniqueConstraint(fields=["message", "stage"], name="scchat_reminder_once"),
        ]

    def __str__(self) -> str:
        return f"{self.stage} reminder of {self.message_id}"


class ChatMessageEdit(models.Model):
    """A message's text before one of its edits, for the room's moderators (the edit
    history). Deleted with its message (a retention purge, an erasure)."""

    message = models.ForeignKey(
        ChatMessage, verbose_name=_("message"), on_delete=models.CASCADE, related_name="edits"
    )
    content = models.TextField(_("previous text"))
    # When the text above was replaced.
    replaced_at = models.DateTimeField(_("replaced at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("message edit")
        verbose_name_plural = _("message edits")
        ordering = ["message", "pk"]

    def __str__(self) -> str:
        return f"{self.message_id} before {self.replaced_at:%Y-%m-%d %H:%M}"


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
    # A send the word filter held with its files (services/held.py): they wait with it
    # for a moderator (kept from the purge of unsent uploads while it is open).
    held_in = models.ForeignKey(
        "ChatReport",
        verbose_name=_("held with"),
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

    #: An announcement asks them to acknowledge it (posted, or a reminder before it is due).
    ANNOUNCEMENT = "announcement", _("Announcement to acknowledge")
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


class AuditAction(models.TextChoices):
    """What a moderator, staff member or the site itself did (:class:`ChatAuditEntry`)."""

    MESSAGE_DELETED = "message.deleted", _("Deleted a message")
    MEMBER_REMOVED = "member.removed", _("Removed a member")
    MEMBER_MUTED = "member.muted", _("Muted a member")
    MEMBER_UNMUTED = "member.unmuted", _("Unmuted a member")
    MEMBER_BANNED = "member.banned", _("Banned a member")
    MEMBER_UNBANNED = "member.unbanned", _("Lifted a ban")
    ROLE_CHANGED = "member.role", _("Changed a role")
    ROOM_LOCKED = "room.locked", _("Locked a room")
    ROOM_UNLOCKED = "room.unlocked", _("Unlocked a room")
    SLOW_MODE = "room.slow_mode", _("Set slow mode")
    WORD_FILTER = "room.word_filter", _("Changed the word filter")
    PRIVATE_ROOM_READ = "room.private_read", _("Read a private conversation")
    REPORT_RESOLVED = "report.resolved", _("Resolved a report")
    ROOM_EXPORTED = "room.exported", _("Exported a room")
    USER_EXPORTED = "user.exported", _("Exported a user's data")
    USER_ERASED = "user.erased", _("Erased a user's data")
    RETENTION_PURGED = "retention.purged", _("Purged expired messages")
    RETENTION_CHANGED = "room.retention", _("Changed a room's retention")
    AUTHOR_REVEALED = "message.revealed", _("Revealed an anonymous author")


class AuditEntryError(Exception):
    """An audit entry was to be changed or deleted: the log is append-only."""


class ChatAuditEntry(models.Model):
    """One moderation or staff action: who, what, on whom or what, why, when.

    Append-only: written by :func:`smartcampus_chat.services.audit.record` inside the
    action's own transaction (no action without its entry, no entry without its action);
    saving an existing entry or deleting one raises. The people and room are kept as ids
    and a label taken at the time, so an entry outlives them; only a user's erasure
    replaces their labels (docs/data-protection.md).
    """

    created_at = models.DateTimeField(_("when"), default=timezone.now, editable=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # None: the site itself (a retention purge, an expiry).
    actor_label = models.CharField(_("by (name)"), max_length=150, blank=True, default="")
    action = models.CharField(_("action"), max_length=32, choices=AuditAction.choices)
    room = models.ForeignKey(
        ChatRoom,
        verbose_name=_("room"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    room_label = models.CharField(_("room (name)"), max_length=120, blank=True, default="")
    target_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("concerning"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    target_label = models.CharField(_("concerning (name)"), max_length=150, blank=True, default="")
    # A message by id, not a key: the entry outlives the message's purge.
    message_id = models.BigIntegerField(_("message"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=500, blank=True, default="")
    # What else the action decided: a duration, a role, counts (JSON, no message text).
    details = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["room", "-created_at"], name="scchat_audit_room_idx"),
            models.Index(fields=["-created_at"], name="scchat_audit_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AuditEntryError("The audit log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AuditEntryError("The audit log is append-only.")


class ExportKind(models.TextChoices):
    USER = "user", _("Your data")
    ROOM = "room", _("Room (legal hold)")


class ExportStatus(models.TextChoices):
    PENDING = "pending", _("Being prepared")
    READY = "ready", _("Ready to download")
    FAILED = "failed", _("Failed")
    DOWNLOADED = "downloaded", _("Downloaded")
    EXPIRED = "expired", _("Expired")


class ChatExport(models.Model):
    """A zip of chat data asked for by ``user`` (services/exports.py, docs/data-export.md).

    ``user`` exports hold that person's own data; ``room`` exports (staff, for a legal hold)
    a room's messages, members and a readable transcript. Built off the request path, the
    zip is kept under a random name in ``ATTACHMENT_STORAGE`` until its one download or
    ``expires_at``, whichever comes first; the row stays as a record (no data in it).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.CASCADE,
        related_name="chat_exports",
    )
    kind = models.CharField(
        _("kind"), max_length=8, choices=ExportKind.choices, default=ExportKind.USER
    )
    room = models.ForeignKey(
        ChatRoom,
        verbose_name=_("room"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    status = models.CharField(
        _("status"), max_length=12, choices=ExportStatus.choices, default=ExportStatus.PENDING
    )
    storage_name = models.CharField(
        _("stored as"), max_length=255, blank=True, default="", editable=False
    )
    size = models.PositiveBigIntegerField(_("size"), default=0)
    created_at = models.DateTimeField(_("requested"), default=timezone.now, editable=False)
    # Set when a builder claims the row (a builder that died: claimed again after a lease).
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    ready_at = models.DateTimeField(_("ready"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    downloaded_at = models.DateTimeField(_("downloaded"), null=True, blank=True)

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        indexes = [
            models.Index(fields=["user", "-created_at"], name="scchat_export_user_idx"),
            models.Index(fields=["status"], name="scchat_export_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="room") | Q(room__isnull=False) | ~Q(status="pending"),
                name="scchat_export_room_has_room",
            ),
            # One own-data export being prepared per person: two requests at once cannot
            # both pass the service's check.
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(kind="user", status="pending"),
                name="scchat_export_one_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} export {self.pk}: {self.status}"


class ReportCategory(models.TextChoices):
    """Why a message was reported; ``filtered``: held by the word filter, not reported."""

    SPAM = "spam", _("Spam")
    HARASSMENT = "harassment", _("Harassment")
    OFF_TOPIC = "off_topic", _("Off topic")
    INAPPROPRIATE = "inappropriate", _("Inappropriate")
    OTHER = "other", _("Other")
    FILTERED = "filtered", _("Held by the word filter")


class ReportStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DISMISSED = "dismissed", _("Dismissed")
    ACTIONED = "actioned", _("Acted on")


class ReportOutcome(models.TextChoices):
    """What came of a report (told to its reporter) or of a held message (told to its
    author)."""

    DISMISSED = "dismissed", _("Dismissed")
    MESSAGE_DELETED = "message_deleted", _("Message deleted")
    AUTHOR_MUTED = "author_muted", _("Author muted")
    AUTHOR_BANNED = "author_banned", _("Author banned")
    APPROVED = "approved", _("Approved and posted")
    REJECTED = "rejected", _("Rejected")


class ChatReport(models.Model):
    """An item of a room's moderation queue (docs/moderation.md): a member's report of a
    message, or a message the word filter held for review (``category`` ``filtered``, no
    reporter, no message: the text waits here, never stored as a message until approved).

    ``content`` and ``author``/``author_label`` are taken when the item is made, so it
    survives the message's deletion; only the room's moderators and staff see them.
    """

    room = models.ForeignKey(
        ChatRoom, verbose_name=_("room"), on_delete=models.CASCADE, related_name="reports"
    )
    message = models.ForeignKey(
        ChatMessage,
        verbose_name=_("message"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reports",
    )
    content = models.TextField(_("reported text"), blank=True, default="")
    # A held send's reply (its files: ``attachments``), posted with it if approved.
    reply_to = models.ForeignKey(
        ChatMessage,
        verbose_name=_("reply to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    author_label = models.CharField(_("author (name)"), max_length=150, blank=True, default="")
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reported by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="chat_reports",
    )
    category = models.CharField(_("category"), max_length=16, choices=ReportCategory.choices)
    note = models.TextField(_("note"), blank=True, default="", max_length=1000)
    status = models.CharField(
        _("status"), max_length=16, choices=ReportStatus.choices, default=ReportStatus.OPEN
    )
    outcome = models.CharField(
        _("outcome"), max_length=16, choices=ReportOutcome.choices, blank=True, default=""
    )
    created_at = models.DateTimeField(_("reported"), default=timezone.now, editable=False)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("resolved by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)

    class Meta:
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(
                fields=["room", "created_at"],
                condition=Q(status="open"),
                name="scchat_report_open_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["reporter", "message"],
                condition=Q(status="open"),
                name="scchat_report_open_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.category} report {self.pk} in {self.room_id}: {self.status}"

    @property
    def is_held(self) -> bool:
        return self.category == ReportCategory.FILTERED


class OfficeHoursStatus(models.TextChoices):
    """Where a student's entry in an office-hours queue stands (docs/office-hours.md)."""

    WAITING = "waiting", _("Waiting")
    BEING_HELPED = "being_helped", _("Being helped")
    DONE = "done", _("Done")
    NO_SHOW = "no_show", _("No-show")
    LEFT = "left", _("Left")


#: The statuses of an entry still in the queue: a student has at most one per session.
OFFICE_HOURS_LIVE = (OfficeHoursStatus.WAITING, OfficeHoursStatus.BEING_HELPED)


class OfficeHoursSession(models.Model):
    """A room's office hours: opened by a moderator now or for a time (``starts_at`` in the
    future: scheduled), closed by one (``closed_at``) or ending by itself at ``ends_at``.
    A room has at most one session not closed."""

    room = models.ForeignKey(
        ChatRoom,
        verbose_name=_("room"),
        on_delete=models.CASCADE,
        related_name="office_hours_sessions",
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("opened by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    starts_at = models.DateTimeField(_("starts"), default=timezone.now)
    ends_at = models.DateTimeField(_("ends"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("office-hours session")
        verbose_name_plural = _("office-hours sessions")
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["room"],
                condition=Q(closed_at__isnull=True),
                name="scchat_office_hours_one_open",
            ),
        ]

    def __str__(self) -> str:
        return f"office hours {self.pk} in {self.room_id}"


class OfficeHoursEntry(models.Model):
    """A student's place in a session's queue: the topic they gave, who claimed them and
    when, the private conversation the claim opened."""

    session = models.ForeignKey(
        OfficeHoursSession,
        verbose_name=_("session"),
        on_delete=models.CASCADE,
        related_name="entries",
    )
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("student"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    topic = models.CharField(_("topic"), max_length=200, blank=True, default="")
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=OfficeHoursStatus.choices,
        default=OfficeHoursStatus.WAITING,
    )
    joined_at = models.DateTimeField(_("joined"), default=timezone.now)
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("claimed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    conversation = models.ForeignKey(
        ChatRoom,
        verbose_name=_("conversation"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("office-hours entry")
        verbose_name_plural = _("office-hours entries")
        ordering = ["joined_at", "id"]
        indexes = [
            models.Index(
                fields=["session", "joined_at", "id"],
                condition=Q(status="waiting"),
                name="scchat_office_hours_wait_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "student"],
                condition=Q(status__in=["waiting", "being_helped"]),
                name="scchat_office_hours_one_live",
            ),
        ]

    def __str__(self) -> str:
        return f"entry {self.pk} of session {self.session_id}: {self.status}"
