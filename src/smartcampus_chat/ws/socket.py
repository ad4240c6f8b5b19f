"""A chat socket's state and delivery order: what the frame handlers work with.

:class:`Socket` holds a connection's followed rooms, its outbox and the holds that keep
hub frames in order behind the message being handled; it sends frames and finds the room
a client frame is about. The consumer (:mod:`.consumer`) reads the client's frames and
the hub's messages and dispatches them; the handlers (:mod:`.handlers`) act on them.

Delivery does no database work: message, typing and presence frames go straight to the
socket's bounded :class:`~smartcampus_chat.realtime.hub.Outbox`; messages that change the
connection's state (access changes, session end, room added or removed) go through an
in-process inbox and are handled one at a time like client frames, and while they (or the
connection's set-up, or a replay) are in progress, later frames are held and delivered
after, so that the order and the access checks are those a Channels consumer handling one
message at a time would give.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.utils.translation import gettext as _

from smartcampus_chat import services
from smartcampus_chat.domain.policies import RoomAccess
from smartcampus_chat.exceptions import ChatError, NotFound, ValidationFailed
from smartcampus_chat.models import ChatRoom
from smartcampus_chat.protocol.frames import (
    MEMBERSHIP_TYPES,
    REFRESHING_TYPES,
    ClientFrame,
    ErrorFrame,
)
from smartcampus_chat.protocol.payloads import Schema
from smartcampus_chat.realtime import events
from smartcampus_chat.realtime.sockets import Inbox, Message, Outbox
from smartcampus_chat.services.connections import FollowedRoom
from smartcampus_chat.ws.pipeline import Entry, SendPipeline

logger = logging.getLogger(__name__)

CLOSE_NOT_AUTHENTICATED = 4001
CLOSE_NOT_ALLOWED = 4003
CLOSE_ROOM_GONE = 4004
CLOSE_UNSUPPORTED_VERSION = 4005
#: A query parameter of the URL is malformed (``?event_seq=`` not a number...).
CLOSE_BAD_REQUEST = 4400
CLOSE_TOO_LARGE = 1009
CLOSE_TRY_AGAIN_LATER = 1013
#: Too many: the user has ``MAX_CONNECTIONS_PER_USER`` sockets open, or reconnected with
#: ``?event_seq=`` more often than ``RESUME_RATE_*`` allow. Reconnect later (backoff).
CLOSE_TOO_MANY = 4029


@dataclass(slots=True)
class Followed:
    """A room a connection follows. ``floor``: live message frames at or below it are
    already covered by a replay and dropped. ``last``: the newest change sent to the socket
    (or the room's newest when it was followed); None when unknown."""

    room_id: int
    slug: str
    room: ChatRoom | None = None
    access: RoomAccess | None = None
    floor: int = 0
    last: int | None = None


def _room_and_access(user: Any, slug: str) -> tuple[ChatRoom, RoomAccess]:
    return services.get_room_for(user, slug)


class Socket(AsyncWebsocketConsumer):
    """One connection's state, delivery order and output (both endpoints)."""

    #: True for ``ws/chat/``, where frames name their room and the room list is live.
    multiplexed = False

    # A socket's state lives in slots, not in an instance dict (~0.8 KiB per idle socket
    # less, docs/performance.md); Channels' own attributes are among them.
    __slots__ = (
        "base_send",
        "channel_layer",
        "channel_name",
        "closing",
        "expires_at",
        "failure",
        "groups",
        "held",
        "holds",
        "inbox",
        "main",
        "outbox",
        "pipe",
        "registered",
        "rooms",
        "scope",
        "sends_paused",
        "turn",
        "user",
        "user_id",
        "validated_at",
    )

    inbox: Inbox
    outbox: Outbox
    #: Reasons to hold hub frames (set-up, replay, pending inbox messages).
    holds: int

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # No Channels groups: the hub follows the rooms (an empty tuple costs nothing).
        self.groups: Any = ()
        super().__init__(*args, **kwargs)
        self.user: Any = None
        self.user_id: Any = None
        self.rooms: dict[int, Followed] = {}
        self.registered = False
        self.closing = False
        #: When the session and access were last checked (``time.monotonic()``).
        self.validated_at = time.monotonic()
        #: When its session expires (``time.monotonic()``; ``inf``: no session, or unknown):
        #: the sweeper asks for a check then (:meth:`.revalidation.Sweeper.expire_at`).
        self.expires_at = math.inf
        #: Hub frames held while ``holds`` (created when the first one is held).
        self.held: list[Message] | None = None
        #: The unanswered ``message.send`` frames (:mod:`.pipeline`; made at the first).
        self.pipe: SendPipeline | None = None
        #: Reasons not to queue sends for a batch now (access may be changing): the
        #: inbox's pending messages and re-checks in progress.
        self.sends_paused = 0

    # Delivery ------------------------------------------------------------------------

    def deliver(self, message: Message) -> None:
        """Called by the hub for each message of a group this connection follows."""
        if self.closing or self.outbox.finished:
            return
        frame_type = message.get("frame_type")
        if frame_type in REFRESHING_TYPES:
            # Archived, renamed...: the cached room and access are re-read on next use.
            changed = self.rooms.get(message.get("room_id", -1))
            if changed is not None:
                changed.room = changed.access = None
        if message["type"] != events.LAYER_EVENT_TYPE or frame_type in MEMBERSHIP_TYPES:
            # Handled in order by the consumer; frames after it wait until it is done, and
            # so do the sends not yet being stored (it may revoke access).
            self.holds += 1
            self.pause_sends()
            self.inbox.put_nowait(message)
            return
        if self.holds:
            if self.held is None:
                self.held = []
            elif len(self.held) >= self.outbox.limit:
                self.overflow()
                return
            self.held.append(message)
            return
        room_id = message.get("room_id")
        if room_id is not None:
            followed = self.rooms.get(room_id)
            if followed is None:
                return
            event_seq = message.get("event_seq")
            if event_seq is not None:
                if event_seq <= followed.floor:
                    return
                if followed.last is None or event_seq > followed.last:
                    followed.last = event_seq
            # One's own typing and presence are not news to oneself.
            if message.get("sender_id") == self.user_id:
                return
        if not self.outbox.offer(message["frame"]) and self.outbox.overflowed:
            self.overflow()

    def hold(self) -> None:
        self.holds += 1

    def release(self) -> None:
        """Drop one reason to hold; the last one delivers what was held, in order."""
        self.holds = max(0, self.holds - 1)
        if self.holds:
            return
        held, self.held = self.held, None
        for message in held or ():
            self.deliver(message)

    def overflow(self) -> None:
        """The client does not keep up: close with 4008; it resumes by ``event_seq``."""
        self.closing = True
        self.held = None
        self.outbox.overflow()

    @property
    def pipeline(self) -> SendPipeline:
        if self.pipe is None:
            self.pipe = SendPipeline(self)
        return self.pipe

    def pause_sends(self) -> None:
        """Keep this socket's sends out of batches until :meth:`resume_sends` (the
        ones waiting for a batch are taken back, :meth:`.pipeline.SendPipeline.pause`)."""
        self.sends_paused += 1
        if self.pipe is not None:
            self.pipe.pause()

    async def resume_sends(self, *, admit: bool = True) -> None:
        """Drop one reason to pause; the last one checks the paused sends again and queues
        them, in order (``admit`` False: they are dropped unanswered, the socket is ending)."""
        self.sends_paused = max(0, self.sends_paused - 1)
        if self.sends_paused or self.pipe is None:
            return
        for entry in self.pipe.parked():
            if admit and not self.closing:
                await self.admit_send(entry, recheck=False)
            else:
                self.pipe.fail(entry, None)

    async def close_with(self, code: int, reason: str) -> None:
        # Said once per close: a client in a reconnect loop (too many sockets, signed out)
        # shows in the log as the same line again and again.
        logger.info("Closing a socket (user %s): %d %s", self.user_id, code, reason)
        self.closing = True
        await self.close(code=code, reason=reason)

    # Implemented by the consumer (:mod:`.consumer`) and the endpoints (:mod:`.handlers.rooms`)

    async def admit_send(self, entry: Entry, *, recheck: bool = True) -> None:
        """Check a pipelined send as a frame is checked, then queue it (or answer it)."""
        raise NotImplementedError

    def error_frame(self, exc: BaseException, frame: ClientFrame) -> ErrorFrame:
        """The ``error`` answering ``frame`` that failed with ``exc`` (logged if unexpected)."""
        raise NotImplementedError

    async def revalidate(self) -> dict[int, int] | None:
        """Check the session and access again; None when the socket closed."""
        raise NotImplementedError

    def read_changes(self, room: ChatRoom, since: int, limit: int) -> list[tuple[int, str]]:
        """A page of the room's changes after ``since``, encoded (worker thread)."""
        raise NotImplementedError

    def room_slug(self) -> str | None:
        """The room of ``ws/chat/<slug>/``; None on ``ws/chat/`` (every room joined)."""
        raise NotImplementedError

    async def apply_access(self, rooms: list[FollowedRoom]) -> dict[int, int] | None:
        """Follow ``rooms`` (what access allows now); as :meth:`revalidate`."""
        raise NotImplementedError

    async def access_lost(self) -> None:
        raise NotImplementedError

    async def room_added(self, event: dict[str, Any]) -> None:
        raise NotImplementedError

    async def room_removed(self, event: dict[str, Any]) -> None:
        raise NotImplementedError

    async def chat_room_gone(self, event: dict[str, Any]) -> None:
        raise NotImplementedError

    async def target(self, slug: str | None) -> Followed:
        """The followed room a frame is about (NotFound for any other room)."""
        if slug is None:
            if self.multiplexed:
                raise ValidationFailed(fields={"room": [_("This field is required.")]})
            return next(iter(self.rooms.values()))
        for followed in self.rooms.values():
            if followed.slug == slug:
                return followed
        raise NotFound()

    async def room_access(self, target: Followed) -> tuple[ChatRoom, RoomAccess]:
        """The room and the user's access, decided once per room and cached until a change."""
        if target.room is None or target.access is None:
            target.room, target.access = await database_sync_to_async(_room_and_access)(
                self.user, target.slug
            )
        return target.room, target.access

    async def drop_room(self, followed: Followed) -> None:
        self.rooms.pop(followed.room_id, None)
        await events.unfollow(self, room_ids=[followed.room_id])

    # Output --------------------------------------------------------------------------

    async def send_frame(self, frame: Schema) -> None:
        await self.send(text_data=frame.model_dump_json())

    async def send_chat_error(self, exc: ChatError, frame_id: Any) -> None:
        await self.send_error(
            exc.code, exc.message, frame_id, fields=exc.fields, retry_after=exc.retry_after
        )

    async def send_error(
        self,
        code: str,
        message: str,
        frame_id: Any = None,
        *,
        fields: dict[str, list[str]] | None = None,
        retry_after: float | None = None,
    ) -> None:
        await self.send_frame(
            ErrorFrame(
                code=code,
                message=message,
                id=frame_id,
                fields=fields or {},
                retry_after=retry_after,
            )
        )
