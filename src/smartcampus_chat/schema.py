"""The frames of the chat protocol: one typed schema per ``type``.

These models are what the server publishes, what the browser client reads and what
``docs/protocol.md`` documents. Unknown fields are rejected (``extra="forbid"``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

PROTOCOL_VERSION = 1


class Schema(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class UserRef(Schema):
    id: int
    username: str
    name: str


class MessageData(Schema):
    id: int
    room: str
    seq: int
    event_seq: int
    sender: UserRef | None
    # None once the message is deleted (moderators read it through the admin or the API).
    content: str | None
    created_at: datetime
    is_edited: bool
    edited_at: datetime | None
    is_deleted: bool
    deleted_at: datetime | None
    reply_to: int | None
    client_id: str | None


class RoomData(Schema):
    id: int
    slug: str
    name: str
    room_type: Literal["public", "group", "course", "private"]
    description: str
    is_archived: bool
    last_seq: int
    last_event_seq: int


class MessageNew(Schema):
    type: Literal["message.new"] = "message.new"
    message: MessageData


class MessageEdited(Schema):
    type: Literal["message.edited"] = "message.edited"
    message: MessageData


class MessageDeleted(Schema):
    type: Literal["message.deleted"] = "message.deleted"
    message: MessageData


class ParticipantJoined(Schema):
    type: Literal["participant.joined"] = "participant.joined"
    room: str
    user: UserRef
    role: str


class ParticipantLeft(Schema):
    type: Literal["participant.left"] = "participant.left"
    room: str
    user: UserRef


class RoomUpdated(Schema):
    type: Literal["room.updated"] = "room.updated"
    room: RoomData


class RoomAdded(Schema):
    type: Literal["room.added"] = "room.added"
    room: RoomData


class RoomRemoved(Schema):
    """Sent to a user who lost access to a room (removed, archived away, group revoked)."""

    type: Literal["room.removed"] = "room.removed"
    room: str


class UnreadUpdate(Schema):
    type: Literal["unread"] = "unread"
    room: str
    unread: int
    last_read_seq: int


RoomEvent = (
    MessageNew | MessageEdited | MessageDeleted | ParticipantJoined | ParticipantLeft | RoomUpdated
)
UserEvent = RoomAdded | RoomRemoved | UnreadUpdate
