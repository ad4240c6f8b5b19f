"""The frames of the chat protocol: one typed schema per ``type``.

These models are what the server publishes, what the browser client reads and what
``docs/protocol.md`` documents. Unknown fields are rejected (``extra="forbid"``). Frames a
client sends are validated strictly (no coercion: ``"5"`` is not a number).

Each frame model is registered once, with its direction and routing facts, by its
decorator (:mod:`smartcampus_chat.protocol.registry`). The payloads the frames carry are
:mod:`.payloads`' (re-exported here).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, cast

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from smartcampus_chat.conf import ChatSettings, app_settings
from smartcampus_chat.protocol import registry
from smartcampus_chat.protocol.payloads import (
    MessageData,
    NotificationData,
    OfficeHoursEntryData,
    OfficeHoursPlaceData,
    OfficeHoursSessionData,
    ParticipantData,
    PollData,
    PresenceChange,
    QuestionStateData,
    RoomData,
    Schema,
    SearchHitData,
    UserRef,
)
from smartcampus_chat.protocol.registry import Direction, client_frame, server_frame

#: Versions of the protocol this server speaks (``?v=`` on the WebSocket URL).
PROTOCOL_VERSION = 1
SUPPORTED_VERSIONS = frozenset({1})

#: The default WebSocket prefix (docs/protocol.md), relative to the site root: ``ws/chat/``
#: for every room of the user, ``ws/chat/<slug>/`` for one room. The prefix in use is the
#: ``WS_PREFIX`` setting, read here only: ``routing.websocket_urlpatterns`` routes it,
#: pages and tickets name it with :func:`ws_path`, the browser client reads ``wsUrl``.
WS_PATH = ChatSettings.WS_PREFIX.default


def ws_prefix() -> str:
    """The WebSocket prefix in use (``WS_PREFIX``), relative to the site root."""
    return app_settings.WS_PREFIX


def ws_path(room: str | None = None) -> str:
    """The absolute path of the endpoint of ``room`` (a slug), or of the user's endpoint."""
    prefix = ws_prefix()
    return f"/{prefix}{room}/" if room else f"/{prefix}"


# --- Server -> client -------------------------------------------------------------------


@server_frame(numbered=True)
class MessageNew(Schema):
    type: Literal["message.new"] = "message.new"
    message: MessageData


@server_frame(numbered=True)
class MessageEdited(Schema):
    type: Literal["message.edited"] = "message.edited"
    message: MessageData


@server_frame(numbered=True)
class MessageDeleted(Schema):
    type: Literal["message.deleted"] = "message.deleted"
    message: MessageData


@server_frame(numbered=True)
class MessageReactions(Schema):
    """A message's reactions changed (the message, with them, as it is now)."""

    type: Literal["message.reactions"] = "message.reactions"
    message: MessageData


@server_frame(numbered=True)
class MessagePreview(Schema):
    """A message's link preview arrived, or its author removed it (the message, with
    ``preview`` as it is now)."""

    type: Literal["message.preview"] = "message.preview"
    message: MessageData


@server_frame(numbered=True)
class MessagePinned(Schema):
    """A message was pinned or unpinned (``message.pinned_at``)."""

    type: Literal["message.pinned"] = "message.pinned"
    message: MessageData


@server_frame()
class MessagesPurged(Schema):
    """The retention purge deleted messages of ``room`` for good (docs/retention.md):
    drop every message numbered up to ``through_seq`` and those numbered in ``seqs``
    (deleted messages past their grace period). Not a change of the room (no
    ``event_seq``): a client that was away learns it from ``resumed``."""

    type: Literal["messages.purged"] = "messages.purged"
    room: str
    through_seq: int
    seqs: list[int] = Field(default_factory=list)


@server_frame()
class ParticipantJoined(Schema):
    type: Literal["participant.joined"] = "participant.joined"
    room: str
    user: UserRef
    role: str


@server_frame()
class ParticipantUpdated(Schema):
    """A member's role changed (a moderator or staff gave another)."""

    type: Literal["participant.updated"] = "participant.updated"
    room: str
    user: UserRef
    role: str


@server_frame()
class ParticipantLeft(Schema):
    type: Literal["participant.left"] = "participant.left"
    room: str
    user: UserRef


@server_frame()
class Participants(Schema):
    """The room's participant list, sent when a connection joins a room (see ``resume``)."""

    type: Literal["participants"] = "participants"
    room: str
    participants: list[ParticipantData]


@server_frame(about_user=True)
class Presence(Schema):
    """A participant came online (first connection) or went offline (last one closed)."""

    type: Literal["presence"] = "presence"
    room: str
    user: UserRef
    online: bool
    last_seen: datetime | None


@server_frame()
class PresenceBatch(Schema):
    """Several participants' presence at once, each as it is now (the last change wins).

    What a process sends instead of many ``presence`` frames of one room within
    ``PRESENCE_BATCH_INTERVAL`` (a lecture hall filling up: O(n) frames, not O(n^2)), and
    every participant's presence after a channel-layer outage (changes were lost). It
    may name the recipient: a batch is encoded once for every socket of the room.
    """

    type: Literal["presence.batch"] = "presence.batch"
    room: str
    changes: list[PresenceChange]


@server_frame(about_user=True)
class Typing(Schema):
    """Someone is typing; clients drop the indicator after ``expires_in`` seconds."""

    type: Literal["typing"] = "typing"
    room: str
    user: UserRef
    state: Literal["started", "stopped"]
    expires_in: float


@server_frame(refreshes_room=True)
class RoomUpdated(Schema):
    type: Literal["room.updated"] = "room.updated"
    room: RoomData


@server_frame(membership=True)
class RoomAdded(Schema):
    type: Literal["room.added"] = "room.added"
    room: RoomData


@server_frame(membership=True)
class RoomRemoved(Schema):
    """Sent to a user who lost access to a room (removed, archived away, group revoked)."""

    type: Literal["room.removed"] = "room.removed"
    room: str


#: What a moderator did to the person told (``moderation.notice``).
SanctionName = Literal["muted", "unmuted", "banned", "unbanned", "removed", "role"]


@server_frame()
class ModerationNotice(Schema):
    """Sent to the person a moderator acted on, on every socket of theirs: a mute or ban
    (``until``: when it ends by itself, null for indefinitely), its lifting, a removal,
    a new ``role``. The moderator is not named."""

    type: Literal["moderation.notice"] = "moderation.notice"
    room: str
    action: SanctionName
    until: datetime | None = None
    reason: str = ""
    role: str | None = None


#: What came of a report or of a held message (``report.resolved``).
ReportOutcomeName = Literal[
    "dismissed", "message_deleted", "author_muted", "author_banned", "approved", "rejected"
]


@server_frame()
class ReportResolved(Schema):
    """Sent to whoever reported a message when a moderator resolved the report, and to the
    author of a message the word filter held when it was approved or rejected. Neither the
    moderator nor the text is named."""

    type: Literal["report.resolved"] = "report.resolved"
    room: str
    report: int
    outcome: ReportOutcomeName


@server_frame()
class ReportsChanged(Schema):
    """Sent to a room's moderators (and staff who moderate it) when its moderation queue
    changed: a report or a held message arrived (``report``: its id), or one was resolved.
    ``open``: the items now waiting. The queue itself is read over REST."""

    type: Literal["reports.changed"] = "reports.changed"
    room: str
    open: int
    report: int | None = None


@server_frame()
class NotificationFrame(Schema):
    """A new notification for the user (docs/notifications.md). ``browser``: show it as a
    system notification when the page is hidden (the person's choice, outside their quiet
    hours)."""

    type: Literal["notification"] = "notification"
    notification: NotificationData
    #: The user's unread notifications, this one included.
    unread: int
    browser: bool


@server_frame()
class NotificationsReadUpdate(Schema):
    """Notifications were marked read (on any of the user's devices)."""

    type: Literal["notifications.read"] = "notifications.read"
    ids: list[int]
    #: Every notification up to now was marked read.
    all: bool
    unread: int


@server_frame()
class UnreadUpdate(Schema):
    type: Literal["unread"] = "unread"
    room: str
    unread: int
    #: Of the unread messages, those that mention the user (or everyone).
    mentions: int
    last_read_seq: int


@server_frame()
class ReadReceipt(Schema):
    """A member's read marker moved, in a room where receipts are shown ("Seen by")."""

    type: Literal["receipt"] = "receipt"
    room: str
    user: UserRef
    last_read_seq: int


@server_frame()
class OfficeHoursState(Schema):
    """A room's office hours changed (opened, scheduled, closed, someone queued, claimed,
    left...): sent to the whole room. No name and no topic: the queue's length, the
    helpers busy and the estimated wait. ``session`` null: no office hours."""

    type: Literal["office_hours.state"] = "office_hours.state"
    room: str
    session: OfficeHoursSessionData | None


@server_frame()
class OfficeHoursPlace(Schema):
    """A student's own place in the queue changed (position, estimated wait, claimed with
    the conversation to go to, done): sent to that student only."""

    type: Literal["office_hours.place"] = "office_hours.place"
    room: str
    session: int
    place: OfficeHoursPlaceData


@server_frame()
class OfficeHoursQueue(Schema):
    """The whole queue with names and topics, as it is now: sent to the room's teachers
    (the policy's ``can_hold_office_hours``) only."""

    type: Literal["office_hours.queue"] = "office_hours.queue"
    room: str
    session: int
    entries: list[OfficeHoursEntryData]


FrameId = Annotated[int | Annotated[str, Field(max_length=64)], Field(union_mode="left_to_right")]
_FRAME_ID: TypeAdapter[int | str] = TypeAdapter(FrameId, config=ConfigDict(strict=True))


def echo_id(value: object) -> int | str | None:
    """The ``id`` of a client frame, to repeat in the answer: None unless it is a valid
    :data:`FrameId` (an answer repeating an invalid one would fail its own validation)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return _FRAME_ID.validate_python(value)
    except ValidationError:
        return None


@server_frame()
class Ack(Schema):
    """The answer to a client frame that succeeded; ``message`` for send, edit and delete."""

    type: Literal["ack"] = "ack"
    id: FrameId | None = None
    client_id: str | None = None
    message: MessageData | None = None


@server_frame()
class ErrorFrame(Schema):
    """A client frame failed. ``code`` is stable; ``message`` is for humans (translated)."""

    type: Literal["error"] = "error"
    code: str
    message: str
    id: FrameId | None = None
    fields: dict[str, list[str]] = Field(default_factory=dict)
    retry_after: float | None = None


@server_frame()
class Pong(Schema):
    type: Literal["pong"] = "pong"
    id: FrameId | None = None


@server_frame()
class Resumed(Schema):
    """End of a replay: the client has every change of ``room`` up to ``event_seq``.

    ``truncated`` means the backlog was longer than ``RESUME_MAX_EVENTS``: send ``resume``
    again from ``event_seq`` for the rest.

    ``purged_through_seq``: no message numbered up to it exists any more (the retention
    purge): drop those you hold. ``gap``: a message changed after the ``event_seq`` you
    resumed from was purged since (a deleted one past its grace period), which no replay
    can name: fetch the messages you show again (docs/retention.md, "The gap").
    """

    type: Literal["resumed"] = "resumed"
    room: str
    event_seq: int
    truncated: bool = False
    purged_through_seq: int = 0
    gap: bool = False
    id: FrameId | None = None


@server_frame()
class SearchResults(Schema):
    """The answer to ``search``: a page of results, best first; ``next`` continues it."""

    type: Literal["search.results"] = "search.results"
    id: FrameId | None = None
    results: list[SearchHitData]
    next: str | None = None


@server_frame()
class AnnouncementAcked(Schema):
    """Sent to the person's own sockets: they acknowledged the announcement ``message_id``
    (it leaves the top of the room, here and in their other tabs)."""

    type: Literal["announcement.acked"] = "announcement.acked"
    room: str
    message_id: int
    acked_at: datetime
    #: The ``id`` of the ``announcement.ack`` it answers (on that socket only).
    id: FrameId | None = None


@server_frame()
class AnnouncementAcks(Schema):
    """Sent to a room's moderators (and staff) when a member acknowledged the announcement
    ``message_id``: who, when, and the counts now. Members never receive it."""

    type: Literal["announcement.acks"] = "announcement.acks"
    room: str
    message_id: int
    user: UserRef
    acked_at: datetime
    acked: int
    total: int


@server_frame()
class QuestionUpdated(Schema):
    """A question's state changed (a vote, an answer, an endorsement, resolved or
    reopened): sent to the whole room, the same frame for everyone (docs/questions.md)."""

    type: Literal["question.updated"] = "question.updated"
    room: str
    question: QuestionStateData


@server_frame()
class QuestionVoted(Schema):
    """Sent to the voter's own sockets: whether they now up-vote the question
    ``message_id`` (and its count). Nobody else learns who voted."""

    type: Literal["question.voted"] = "question.voted"
    room: str
    message_id: int
    voted: bool
    votes: int
    #: The ``id`` of the ``question.vote``/``question.unvote`` it answers (that socket only).
    id: FrameId | None = None


@server_frame()
class AuthorRevealed(Schema):
    """The author of the anonymous message ``message_id``, to the moderator who asked
    (``message.reveal``, audit-logged) on that socket only: never to the room."""

    type: Literal["message.revealed"] = "message.revealed"
    room: str
    message_id: int
    #: None when the author's account is gone.
    author: UserRef | None
    #: The ``id`` of the ``message.reveal`` it answers.
    id: FrameId | None = None


@server_frame()
class PollUpdated(Schema):
    """A poll changed (a vote, a vote changed or withdrawn, closed): its state now, to the
    whole room. ``event_seq``: the message's new change number. Never a reader's own
    choice (``poll.my_votes`` is null: a client keeps the one it knows); an anonymous
    poll names nobody."""

    type: Literal["poll.updated"] = "poll.updated"
    room: str
    message_id: int
    event_seq: int
    poll: PollData


@server_frame()
class PollVoted(Schema):
    """Sent to the voter's own sockets: their choice in the poll ``message_id`` now
    (empty: no vote). The answer to ``poll.vote`` (with its ``id``) on that socket."""

    type: Literal["poll.voted"] = "poll.voted"
    room: str
    message_id: int
    option_ids: list[int]
    #: The ``id`` of the ``poll.vote`` it answers (on that socket only).
    id: FrameId | None = None


#: Every frame the server sends (the registry's server frames; a test holds them equal).
ServerFrame = Annotated[
    MessageNew
    | MessageEdited
    | MessageDeleted
    | MessageReactions
    | MessagePreview
    | MessagePinned
    | AnnouncementAcked
    | AnnouncementAcks
    | QuestionUpdated
    | QuestionVoted
    | AuthorRevealed
    | PollUpdated
    | PollVoted
    | MessagesPurged
    | ParticipantJoined
    | ParticipantUpdated
    | ParticipantLeft
    | Participants
    | Presence
    | PresenceBatch
    | Typing
    | RoomUpdated
    | RoomAdded
    | RoomRemoved
    | ModerationNotice
    | ReportResolved
    | ReportsChanged
    | UnreadUpdate
    | NotificationFrame
    | NotificationsReadUpdate
    | ReadReceipt
    | OfficeHoursState
    | OfficeHoursPlace
    | OfficeHoursQueue
    | Ack
    | ErrorFrame
    | Pong
    | Resumed
    | SearchResults,
    Field(discriminator="type"),
]

# --- Client -> server -------------------------------------------------------------------


class ClientFrame(BaseModel):
    """Base of frames a client sends: strict types, no unknown fields, optional ``id``.

    ``room`` (a slug) is required on the multiplexed endpoint ``ws/chat/`` and may be left
    out on ``ws/chat/<slug>/``, where it must name the connection's room if given.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    id: FrameId | None = None


class PollInput(BaseModel):
    """A ``message.send``'s poll: 2 to ``POLL_MAX_OPTIONS`` options (distinct once
    trimmed and case-folded, at most 200 characters each), ``closes_at`` ISO 8601 in the
    future (docs/polls.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    options: list[str]
    multiple: bool = False
    anonymous: bool = False
    closes_at: str | None = None


@client_frame("messages")
class SendMessage(ClientFrame):
    type: Literal["message.send"]
    room: str | None = None
    #: May be empty when ``attachments`` names files (the caption is the text).
    content: str = ""
    client_id: str | None = None
    reply_to: int | None = None
    #: Ids of the sender's uploads in the room (``POST api/rooms/<slug>/attachments/``).
    attachments: list[int] | None = None
    #: Post it as an announcement (the room's moderators), maybe asking the members to
    #: acknowledge it (``requires_ack``) by ``ack_due`` (ISO 8601, in the future).
    announcement: bool = False
    requires_ack: bool = False
    ack_due: str | None = None
    #: Anonymous to classmates, where the room allows it (docs/anonymous-posts.md).
    anonymous: bool = False
    #: Post it as a poll; ``content`` is the question (docs/polls.md).
    poll: PollInput | None = None


@client_frame("messages")
class EditMessage(ClientFrame):
    type: Literal["message.edit"]
    room: str | None = None
    message_id: int
    content: str


@client_frame("messages")
class DeleteMessage(ClientFrame):
    type: Literal["message.delete"]
    room: str | None = None
    message_id: int


@client_frame("announcements")
class AcknowledgeAnnouncement(ClientFrame):
    """ "I have read this": acknowledge the announcement ``message_id`` (idempotent)."""

    type: Literal["announcement.ack"]
    room: str | None = None
    message_id: int


@client_frame("questions")
class VoteQuestion(ClientFrame):
    """Up-vote the question ``message_id`` (once; a repeat changes nothing)."""

    type: Literal["question.vote"]
    room: str | None = None
    message_id: int


@client_frame("questions")
class UnvoteQuestion(ClientFrame):
    type: Literal["question.unvote"]
    room: str | None = None
    message_id: int


@client_frame("questions")
class EndorseAnswer(ClientFrame):
    """Endorse the answer ``message_id`` (teachers and TAs: the room's moderators)."""

    type: Literal["answer.endorse"]
    room: str | None = None
    message_id: int


@client_frame("questions")
class UnendorseAnswer(ClientFrame):
    type: Literal["answer.unendorse"]
    room: str | None = None
    message_id: int


@client_frame("questions")
class ResolveQuestion(ClientFrame):
    """Mark the question ``message_id`` resolved (the room's moderators, its author)."""

    type: Literal["question.resolve"]
    room: str | None = None
    message_id: int


@client_frame("questions")
class ReopenQuestion(ClientFrame):
    type: Literal["question.reopen"]
    room: str | None = None
    message_id: int


@client_frame("anonymity")
class RevealAuthor(ClientFrame):
    """Reveal who wrote the anonymous message ``message_id`` (the room's moderators and
    staff; audit-logged with ``reason``). Answered with ``message.revealed`` on this socket
    only."""

    type: Literal["message.reveal"]
    room: str | None = None
    message_id: int
    reason: str


@client_frame("polls")
class VotePoll(ClientFrame):
    """Vote in the poll ``message_id``: the chosen option ids (one unless the poll is
    multiple-choice); empty withdraws the vote. Answered with ``poll.voted``."""

    type: Literal["poll.vote"]
    room: str | None = None
    message_id: int
    option_ids: list[int]


@client_frame("polls")
class ClosePoll(ClientFrame):
    """Close the poll ``message_id`` now (its author, a moderator). Answered with
    ``ack`` carrying the message."""

    type: Literal["poll.close"]
    room: str | None = None
    message_id: int


@client_frame("reactions")
class AddReaction(ClientFrame):
    type: Literal["reaction.add"]
    room: str | None = None
    message_id: int
    emoji: str


@client_frame("reactions")
class RemoveReaction(ClientFrame):
    type: Literal["reaction.remove"]
    room: str | None = None
    message_id: int
    emoji: str


@client_frame("pins")
class PinMessage(ClientFrame):
    type: Literal["message.pin"]
    room: str | None = None
    message_id: int


@client_frame("pins")
class UnpinMessage(ClientFrame):
    type: Literal["message.unpin"]
    room: str | None = None
    message_id: int


@client_frame("previews")
class RemovePreview(ClientFrame):
    """The author removes the link preview of their message."""

    type: Literal["preview.remove"]
    room: str | None = None
    message_id: int


@client_frame("typing")
class TypingFrame(ClientFrame):
    type: Literal["typing"]
    room: str | None = None
    state: Literal["started", "stopped"]


#: Largest number a client frame may carry where the server stores or compares it (a
#: 64-bit database column): beyond it the database driver would overflow.
MAX_NUMBER = 2**63 - 1


@client_frame("reads")
class ReadFrame(ClientFrame):
    type: Literal["read"]
    room: str | None = None
    seq: int = Field(ge=0, le=MAX_NUMBER)


@client_frame("notifications", rechecks=False)  # the user's own rows: no room access
class NotificationsReadFrame(ClientFrame):
    """Mark notifications read: ``ids``, or ``all`` of them."""

    type: Literal["notifications.read"]
    ids: list[Annotated[int, Field(ge=1, le=MAX_NUMBER)]] = Field(default=[], max_length=500)
    all: bool = False


@client_frame("history")
class ResumeFrame(ClientFrame):
    type: Literal["resume"]
    room: str | None = None
    event_seq: int = Field(ge=0, le=MAX_NUMBER)


@client_frame("message_search", rechecks=False)  # a read: access is decided by the query
class SearchFrame(ClientFrame):
    """Search the messages the user may read (docs/search.md): ``q`` as typed, with its
    operators; ``room``: that room only (else every room the user joined)."""

    type: Literal["search"]
    q: str = Field(max_length=1000)
    room: str | None = None
    author: str | None = None
    after: str | None = None
    before: str | None = None
    has: list[Literal["link", "code"]] = Field(default_factory=list, max_length=2)
    order: Literal["relevance", "newest"] = "relevance"
    cursor: str | None = Field(default=None, max_length=100)
    limit: int | None = Field(default=None, ge=1, le=MAX_NUMBER)


@client_frame("office_hours")
class OfficeHoursOpen(ClientFrame):
    """A teacher opens the room's office hours now, or schedules them (``starts_at``, ISO
    8601 with a zone); ``ends_at``: they close by themselves then."""

    type: Literal["office_hours.open"]
    room: str | None = None
    starts_at: str | None = Field(default=None, max_length=64)
    ends_at: str | None = Field(default=None, max_length=64)


@client_frame("office_hours")
class OfficeHoursClose(ClientFrame):
    type: Literal["office_hours.close"]
    room: str | None = None


@client_frame("office_hours")
class OfficeHoursRaise(ClientFrame):
    """A student raises a hand, with a short topic (at most 200 characters)."""

    type: Literal["office_hours.raise"]
    room: str | None = None
    topic: str = Field(default="", max_length=1000)


@client_frame("office_hours")
class OfficeHoursLeave(ClientFrame):
    """A student leaves the queue."""

    type: Literal["office_hours.leave"]
    room: str | None = None


@client_frame("office_hours")
class OfficeHoursClaim(ClientFrame):
    """A teacher claims the student ``entry`` (an entry id), or the next one (absent)."""

    type: Literal["office_hours.claim"]
    room: str | None = None
    entry: int | None = Field(default=None, ge=1, le=MAX_NUMBER)


@client_frame("office_hours")
class OfficeHoursFinish(ClientFrame):
    """A teacher marks the student ``entry`` helped (``done``) or absent (``no_show``)."""

    type: Literal["office_hours.finish"]
    room: str | None = None
    entry: int = Field(ge=1, le=MAX_NUMBER)
    outcome: Literal["done", "no_show"]


@client_frame("ping", rechecks=False)
class Ping(ClientFrame):
    type: Literal["ping"]


#: Every client frame model by its ``type`` (from the registry).
CLIENT_FRAMES: dict[str, type[ClientFrame]] = {
    spec.type: cast("type[ClientFrame]", spec.model) for spec in registry.specs(Direction.CLIENT)
}
#: Server frame types that change which rooms a connection follows.
MEMBERSHIP_TYPES = registry.server_types(membership=True)
#: Server frame types after which a connection re-reads its room and access.
REFRESHING_TYPES = registry.server_types(refreshes_room=True)


def server_frame_types() -> set[str]:
    """The ``type`` of every frame the server may send."""
    return set(registry.server_types())
