"""The payloads frames carry (a message, a room, a person...), each defined once: the
WebSocket frames (:mod:`.frames`) and the REST API (``api/shapes.py``) render them alike.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict


class Schema(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class UserRef(Schema):
    """A person. ``name``: the display name (``DISPLAY_NAME``); ``username``: the login
    identifier, null unless the host sets ``EXPOSE_USERNAME``."""

    id: int
    username: str | None
    name: str


#: ``models.MessageKind``'s values.
MessageKindName = Literal["user", "system", "announcement"]


class ReplyData(Schema):
    """The message a reply answers, as the reply's quote shows it (as it is now: clients
    update it from the parent's ``message.edited``/``message.deleted``, docs/protocol.md)."""

    id: int
    seq: int
    kind: MessageKindName
    sender: UserRef | None
    #: The parent's text without formatting, cut at 120 characters; None once deleted.
    excerpt: str | None
    is_deleted: bool
    #: An anonymous post (``sender`` null: shown as "Anonymous classmate").
    anonymous: bool = False


class ReactionData(Schema):
    """One emoji on a message: how many people, and who (user ids, oldest first)."""

    emoji: str
    count: int
    user_ids: list[int]


#: ``models.AttachmentKind``'s values.
AttachmentKindName = Literal["image", "file"]


class AttachmentData(Schema):
    """A file sent with a message (docs/attachments.md). Every URL checks the reader's
    access to the room on each request."""

    id: int
    #: The uploader's file name: text to show (and the name a download is saved under).
    name: str
    size: int
    #: Detected from the content when uploaded, never from the name.
    content_type: str
    kind: AttachmentKindName
    #: Pixels of an image (upright); None for other files.
    width: int | None
    height: int | None
    #: Opens the file: shown in the tab for raster images and PDF, downloaded otherwise.
    url: str
    #: Always downloads it (``Content-Disposition: attachment``).
    download_url: str
    #: An image's thumbnail (at most 320 px a side), or None (a small image: ``url``).
    thumbnail_url: str | None
    #: An image at most 1280 px a side, for a viewer, or None (not larger: ``url``).
    preview_url: str | None


class RoomFileData(Schema):
    """A file in a room's files (the gallery): the file, and the message that sent it."""

    attachment: AttachmentData
    message_id: int
    seq: int
    sender: UserRef | None
    created_at: datetime
    #: Sent with an anonymous post (``sender`` null).
    anonymous: bool = False


class LinkPreviewData(Schema):
    """The card of a message's first link (docs/security.md, "Link previews"): what the
    page says about itself, as plain text to show as text (never as HTML)."""

    #: The link as written in the message (where the card leads).
    url: str
    title: str
    description: str
    site_name: str
    #: The page's image, re-encoded by the server (at most 600 px a side), or None.
    image_url: str | None
    image_width: int | None
    image_height: int | None


class PollOptionData(Schema):
    """One answer of a poll and its votes. ``voters``: who chose it, oldest vote first
    (always empty in an anonymous poll: nobody's choice is ever shown)."""

    id: int
    text: str
    votes: int
    voters: list[UserRef]


class PollData(Schema):
    """A poll's state (docs/polls.md): the message's text is its question."""

    multiple: bool
    anonymous: bool
    closes_at: datetime | None
    closed_at: datetime | None
    #: Closed by hand (``closed_at``) or by time (``closes_at`` passed when rendered;
    #: clients close it themselves at ``closes_at``).
    closed: bool
    #: People who voted (a person counts once, whatever the options they chose).
    voters: int
    options: list[PollOptionData]
    #: The reader's own choice (option ids), in reads made for them; None where not
    #: said (frames sent to the whole room: a client keeps the one it knows).
    my_votes: list[int] | None = None


class MessageData(Schema):
    id: int
    room: str
    seq: int
    event_seq: int
    #: ``system``: posted by the site (no sender; shown under the site's name).
    kind: MessageKindName
    # None for a system message, and once the sender's account is deleted.
    sender: UserRef | None
    # None once the message is deleted (moderators read it through the admin or the API).
    #: The Markdown source, as written (what an editor starts from).
    content: str | None
    #: ``content`` rendered when it was written: sanitised HTML, the only user-derived HTML
    #: a client inserts (docs/formatting.md). None once deleted, as ``content``.
    content_html: str | None
    created_at: datetime
    is_edited: bool
    edited_at: datetime | None
    is_deleted: bool
    deleted_at: datetime | None
    reply_to: int | None
    #: The message replied to (its quote); None when ``reply_to`` is None, or when the
    #: parent is gone for good.
    reply: ReplyData | None
    #: Emoji reactions, in the order each emoji was first added.
    reactions: list[ReactionData]
    #: When a moderator pinned it (None: not pinned).
    pinned_at: datetime | None
    #: Files sent with it, in order; empty once it is deleted (as ``content``).
    attachments: list[AttachmentData]
    #: The preview of its first link once fetched (None before, without one, once the
    #: author removed it, and once the message is deleted).
    preview: LinkPreviewData | None
    client_id: str | None
    #: An announcement its members are asked to acknowledge (``announcement.ack``).
    requires_ack: bool = False
    #: When they should have acknowledged it by (None: no date).
    ack_due: datetime | None = None
    #: Anonymous to classmates (docs/anonymous-posts.md): ``sender`` and ``client_id`` are
    #: null; clients show "Anonymous classmate".
    anonymous: bool = False
    #: An anonymous post of the person this answer goes to (acks, their history and REST
    #: reads); false in every broadcast.
    own: bool = False
    #: A poll's state (None: not a poll, or deleted).
    poll: PollData | None = None


class EndorsementData(Schema):
    """An answer a teacher or TA endorsed (docs/questions.md): which, by whom, when."""

    answer: int
    #: Who endorsed it (None once their account is gone).
    by: UserRef | None
    at: datetime


class QuestionStateData(Schema):
    """A question's Q&A state (a top-level message of a room in Q&A mode), the same for
    everyone: whether the reader voted is not in it (``question.voted``, ``voted``)."""

    #: The question's message id.
    id: int
    votes: int
    #: Its replies still there.
    answers: int
    resolved: bool
    resolved_at: datetime | None
    resolved_by: UserRef | None
    #: Its endorsed answers, oldest endorsement first.
    endorsed: list[EndorsementData]


class QuestionData(Schema):
    """A question as the questions list shows it: the message, its state, and whether the
    reader up-voted it."""

    id: int
    room: str
    seq: int
    #: None for an anonymous question (docs/anonymous-posts.md), as everywhere.
    sender: UserRef | None
    anonymous: bool
    #: Whether the reader asked it (what tells an anonymous question's author it is theirs).
    own: bool
    #: The question's sanitised HTML (a deleted question is never listed).
    content_html: str
    created_at: datetime
    state: QuestionStateData
    voted: bool


class SearchRoomRef(Schema):
    """The room of a search result: its slug and what the searcher calls it."""

    slug: str
    title: str


class SearchHitData(Schema):
    """One search result: the message's identity and a snippet (never its full text)."""

    id: int
    room: SearchRoomRef
    seq: int
    kind: MessageKindName
    sender: UserRef | None
    created_at: datetime
    is_edited: bool
    #: Escaped text of the message around the searched words, each in ``<mark>``: no other
    #: markup (docs/search.md).
    snippet_html: str
    #: The message in its room (``?message=<id>``: the page scrolls to it).
    url: str
    #: An anonymous post (``sender`` null).
    anonymous: bool = False


class RoomData(Schema):
    id: int
    slug: str
    name: str
    #: The room as its recipient names it: a private room's other person, else ``name``.
    title: str
    room_type: Literal["public", "group", "course", "private"]
    description: str
    is_archived: bool
    #: Whether the room shows "Seen by" (when small enough: ``READ_RECEIPTS_MAX_MEMBERS``).
    read_receipts: bool
    #: Slow mode: one message per this many seconds per member (0: off; moderators exempt).
    slow_mode_seconds: int = 0
    #: Announcement mode: only the room's moderators post.
    is_locked: bool = False
    #: Q&A mode: top-level posts are questions, replies their answers (docs/questions.md).
    qa_mode: bool = False
    #: When the room's course ends (None: no end known); read-only for everyone from then.
    ends_at: datetime | None = None
    #: Students may post anonymously to classmates (docs/anonymous-posts.md).
    allow_anonymous: bool = False
    #: Members, not only moderators, may post polls (docs/polls.md).
    members_can_create_polls: bool = False
    last_seq: int
    last_event_seq: int


class ParticipantData(Schema):
    user: UserRef
    role: str
    online: bool
    last_seen: datetime | None


class PresenceChange(Schema):
    """One participant's presence as it is now (an entry of ``presence.batch``)."""

    user: UserRef
    online: bool
    last_seen: datetime | None


#: ``models.NotificationKind``'s values.
NotificationKindName = Literal["announcement", "mention", "reply", "private", "message"]


class NotificationData(Schema):
    """One notification as its person reads it (the notification centre, REST and the
    ``notification`` frame)."""

    id: int
    kind: NotificationKindName
    room: str
    #: The room as the person names it (a private room: the other person).
    room_name: str
    message_id: int
    seq: int
    actor: UserRef | None
    #: The message's plain text, cut at 140 characters; empty once it is deleted.
    excerpt: str
    created_at: datetime
    read: bool
    #: The message in its room (``?message=<id>``: the page scrolls to it).
    url: str


#: ``models.OfficeHoursStatus``'s values.
OfficeHoursStatusName = Literal["waiting", "being_helped", "done", "no_show", "left"]
#: Where a session stands: its start ahead, open, or over (closed or past its end).
OfficeHoursStateName = Literal["scheduled", "open", "closed"]


class OfficeHoursSessionData(Schema):
    """A room's office hours as everyone in the room sees them: no name, no topic."""

    id: int
    state: OfficeHoursStateName
    starts_at: datetime
    ends_at: datetime | None
    #: Students waiting (the queue's length).
    waiting: int
    #: Students being helped now.
    helping: int
    #: Seconds someone joining the queue now would likely wait (None: not known yet, before
    #: a first student was served).
    estimated_wait: int | None


class OfficeHoursEntryData(Schema):
    """A student in the queue as its teachers see them: who, about what, claimed by whom."""

    id: int
    user: UserRef
    topic: str
    status: OfficeHoursStatusName
    joined_at: datetime
    claimed_by: UserRef | None
    claimed_at: datetime | None
    #: The private conversation the claim opened (a room slug), or None.
    conversation: str | None


class OfficeHoursPlaceData(Schema):
    """A student's own place in the queue: no one else's name or topic."""

    id: int
    status: OfficeHoursStatusName
    topic: str
    #: 1: next to be claimed; None unless waiting.
    position: int | None
    #: Seconds until claimed, likely (None: not known yet, or not waiting).
    estimated_wait: int | None
    #: Who claimed them, once claimed.
    claimed_by: UserRef | None
    #: The private conversation with that teacher (a room slug), once claimed.
    conversation: str | None


class OfficeHoursStatsData(Schema):
    """A session's figures for its teachers."""

    session: int
    #: Students helped to the end ("done").
    served: int
    no_shows: int
    #: Students who left the queue themselves (or were in it when it closed).
    left: int
    #: Mean seconds from raising a hand to being claimed (None: nobody claimed).
    average_wait: int | None
    #: Mean seconds from claim to done (None: nobody served).
    average_service: int | None
