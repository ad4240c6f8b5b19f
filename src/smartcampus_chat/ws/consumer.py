"""WebSocket doors. Thin: parse a frame, call a service, send frames back.

Two endpoints share one implementation (:class:`ChatConsumer`):

- ``ws/chat/<slug>/`` (:class:`RoomConsumer`) follows one room;
- ``ws/chat/`` (:class:`UserConsumer`) follows every room the user joined and keeps the
  room list live (``room.added`` / ``room.removed`` / ``unread``).

The full protocol is documented in docs/protocol.md. Delivery does no database work: access
is decided when a connection follows a room and re-decided when the layer says it changed
(``chat.access_changed``, ``chat.session_changed``, ``chat.session_ended``,
``room.removed``), never per delivered frame. As a backstop for changes nobody signalled,
each connection re-checks its session and access at an interval (``chat.revalidate`` from
:mod:`smartcampus_chat.realtime.revalidation`) and before a state-changing client frame when its
last check is older than ``REVALIDATE_FRAME_AGE`` (:meth:`ChatConsumer.revalidate`).

Connections have no layer channel of their own: the process's fan-out hub
(:mod:`smartcampus_chat.realtime.hub`) receives each group message once and calls
:meth:`ChatConsumer.deliver` of every local connection following the group. Message,
typing and presence frames go straight to the socket's bounded :class:`~.hub.Outbox`;
messages that change the connection's state (access changes, session end, room added or
removed) go through an in-process inbox and are handled one at a time like client frames,
and while they (or the connection's set-up, or a replay) are in progress, later frames are
held and delivered after, so that the order and the access checks are those a Channels
consumer handling one message at a time would give.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from asgiref.sync import sync_to_async
from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from django.utils.translation import gettext as _
from pydantic import ValidationError

from smartcampus_chat import queries, services
from smartcampus_chat.conf import app_settings
from smartcampus_chat.domain.policies import RoomAccess
from smartcampus_chat.domain.validation import parse_int
from smartcampus_chat.exceptions import (
    ChatError,
    NotFound,
    PermissionDenied,
    RateLimited,
    RoomArchived,
    ServiceUnavailable,
    ValidationFailed,
)
from smartcampus_chat.infra import ratelimit
from smartcampus_chat.infra.outages import is_unavailable
from smartcampus_chat.models import ChatMessage, ChatRoom
from smartcampus_chat.protocol.frames import (
    CLIENT_FRAMES,
    MAX_NUMBER,
    SUPPORTED_VERSIONS,
    Ack,
    ClientFrame,
    DeleteMessage,
    EditMessage,
    ErrorFrame,
    MessageData,
    MessageDeleted,
    MessageEdited,
    MessageNew,
    ParticipantData,
    Participants,
    Ping,
    Pong,
    ReadFrame,
    Resumed,
    ResumeFrame,
    RoomAdded,
    RoomRemoved,
    Schema,
    SendMessage,
    Typing,
    TypingFrame,
    echo_id,
)
from smartcampus_chat.protocol.render import message_data, room_data, user_ref
from smartcampus_chat.realtime import events, revalidation, tickets
from smartcampus_chat.realtime.presence import TooManyConnections, tracker
from smartcampus_chat.realtime.sockets import CLOSE_TOO_SLOW, Inbox, Message, Outbox, raw_send
from smartcampus_chat.services.batch import SendRequest
from smartcampus_chat.services.batcher import get_batcher
from smartcampus_chat.ws.setup import (
    FollowedRoom,
    RevalidateRequest,
    SetUpRequest,
    get_revalidate_batcher,
    get_set_up_batcher,
    socket_session_key,
)

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
__all__ = ["CLOSE_TOO_SLOW", "ChatConsumer", "RoomConsumer", "UserConsumer"]

#: ``frame_type``\s of layer frames that change which rooms a connection follows.
_MEMBERSHIP_FRAMES = frozenset({"room.added", "room.removed"})


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


def query_params(scope: dict[str, Any]) -> dict[str, str]:
    """The last value of each query-string parameter of ``scope`` (blank ones included:
    ``?event_seq=`` is a malformed number, not an absent one)."""
    raw = scope.get("query_string", b"")
    text = raw.decode("latin-1") if isinstance(raw, bytes) else str(raw)
    return {key: values[-1] for key, values in parse_qs(text, keep_blank_values=True).items()}


# --- Database work, run in a worker thread ------------------------------------------------


def _room_and_access(user: Any, slug: str) -> tuple[ChatRoom, RoomAccess]:
    return services.get_room_for(user, slug)


def _room_exists(room_id: int) -> bool:
    return ChatRoom.objects.filter(pk=room_id).exists()


def _message_frame(message: ChatMessage, slug: str) -> Schema:
    data = message_data(message, room_slug=slug)
    if message.is_deleted:
        return MessageDeleted(message=data)
    if message.is_edited:
        return MessageEdited(message=data)
    return MessageNew(message=data)


def _changes(room: ChatRoom, since: int, limit: int) -> list[tuple[int, str]]:
    """(event_seq, encoded frame) of the room's changes after ``since``, oldest first."""
    return [
        (message.event_seq, _message_frame(message, room.slug).model_dump_json())
        for message in queries.changes_since(room, since, limit=limit)
    ]


def _participants(room: ChatRoom) -> Participants:
    return Participants(
        room=room.slug,
        participants=[
            ParticipantData(
                user=user_ref(p.user), role=p.role, online=p.is_online, last_seen=p.last_seen
            )
            for p in queries.participants(room)
        ],
    )


def _message_in(user: Any, message_id: int, room_id: int) -> tuple[ChatMessage, RoomAccess]:
    message, access = services.get_message_for(user, message_id)
    if message.room_id != room_id:
        raise NotFound()
    return message, access


def _send(user: Any, room: ChatRoom, frame: SendMessage, access: RoomAccess) -> MessageData:
    message = services.check_send_message(
        user,
        room,
        frame.content,
        client_id=frame.client_id,
        reply_to=frame.reply_to,
        access=access,
    ).message
    return message_data(message, room_slug=room.slug)


def _edit(user: Any, frame: EditMessage, room_id: int) -> MessageData:
    message, access = _message_in(user, frame.message_id, room_id)
    return message_data(services.check_edit_message(user, message, frame.content, access))


def _delete(user: Any, frame: DeleteMessage, room_id: int) -> MessageData:
    message, access = _message_in(user, frame.message_id, room_id)
    return message_data(services.check_delete_message(user, message, access))


# --- The consumer -------------------------------------------------------------------------


class ChatConsumer(AsyncWebsocketConsumer):
    """Shared machinery of both endpoints; subclasses say which rooms are followed."""

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
        "registered",
        "rooms",
        "scope",
        "turn",
        "user",
        "user_id",
        "validated_at",
    )

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

    # ASGI entry and delivery -----------------------------------------------------------

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Channels' ``AsyncConsumer.__call__`` without a layer channel per connection.

        The connection's second input, next to the client's frames, is an in-process inbox
        fed by the hub, handled in turn with them (one message at a time, as Channels'
        ``await_many_dispatch`` would, without its two waiting tasks per idle socket).
        ``channel_name`` only names the socket (presence rows).
        """
        self.scope = scope
        self.channel_layer = None
        self.channel_name = f"scchat.conn.{uuid.uuid4().hex}"
        self.turn = asyncio.Lock()
        self.main = asyncio.current_task()
        self.failure: BaseException | None = None
        self.inbox = Inbox(self.handle_inbox)
        #: Reasons to hold hub frames (set-up, replay, pending inbox messages).
        self.holds = 1
        self.outbox = Outbox(raw_send(send), app_settings.SEND_QUEUE_MAX_FRAMES)
        self.base_send = self.outbox.put
        try:
            while True:
                message = await receive()
                async with self.turn:
                    await self.dispatch(message)
        except StopConsumer:
            pass
        except asyncio.CancelledError:
            if self.failure is None:
                raise
            raise self.failure from None  # An inbox message's handler failed (below).
        finally:
            await self.inbox.aclose()
            revalidation.get_sweeper().discard(self)
            if self.registered:
                # The server stopped the application without a disconnect message.
                self.registered = False
                await events.unfollow(self, room_ids=list(self.rooms), user_id=self.user.pk)
                await tracker.closed(self.user.pk, self.channel_name)
            await self.outbox.aclose()

    async def handle_inbox(self, message: Message) -> None:
        """Handle a hub message in turn with the client's frames; a failure ends the
        connection as one while handling a client frame does."""
        async with self.turn:
            try:
                await self.dispatch(message)
            except Exception as exc:
                if self.failure is None and self.main is not None:
                    self.failure = exc
                    self.main.cancel()

    async def dispatch(self, message: Message) -> None:
        """Handle one message; hub frames wait meanwhile, as on a Channels channel.

        So the answer to a client frame (an ``ack``) comes before the frames it caused
        (one's own ``message.new``), and state changes apply before later frames.
        """
        self.hold()
        try:
            handler = getattr(self, get_handler_name(message), None)
            if handler is None:
                raise ValueError(f"No handler for message type {message['type']}")
            # Not Channels' dispatch: it hops to the database thread before every message
            # (``aclose_old_connections``) although every database call of this consumer
            # goes through ``database_sync_to_async``, which closes old connections itself.
            await handler(message)
        finally:
            if message["type"].startswith("chat."):
                self.holds -= 1  # The hold taken when the hub queued it.
            self.release()

    def deliver(self, message: Message) -> None:
        """Called by the hub for each message of a group this connection follows."""
        if self.closing or self.outbox.finished:
            return
        if message.get("frame_type") == "room.updated":
            # Archived, renamed...: the cached room and access are re-read on next use.
            changed = self.rooms.get(message.get("room_id", -1))
            if changed is not None:
                changed.room = changed.access = None
        if message["type"] != events.LAYER_EVENT_TYPE or (
            message.get("frame_type") in _MEMBERSHIP_FRAMES
        ):
            # Handled in order by the consumer; frames after it wait until it is done.
            self.holds += 1
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

    # Connection ----------------------------------------------------------------------

    async def websocket_connect(self, message: Message) -> None:
        try:
            await super().websocket_connect(message)
        finally:
            self.release()

    async def connect(self) -> None:
        # Accept first, then close with a code: a close before the handshake completes
        # reaches browsers as a bare HTTP 403, losing the reason.
        await self.accept()
        params = query_params(self.scope)
        if parse_int(params.get("v", "1")) not in SUPPORTED_VERSIONS:
            await self.close_with(CLOSE_UNSUPPORTED_VERSION, "protocol version unsupported")
            return
        since: int | None = None
        if "event_seq" in params:
            since = parse_int(params["event_seq"], maximum=MAX_NUMBER)
            if since is None:
                await self.close_with(CLOSE_BAD_REQUEST, "invalid event_seq")
                return
        try:
            setup = await get_set_up_batcher().set_up(
                SetUpRequest(
                    self.scope.get("user"),
                    params.get("ticket") or None,
                    self.room_slug(),
                    socket_session_key(self.scope),
                )
            )
        except NotFound:
            await self.close_with(CLOSE_NOT_ALLOWED, "not allowed")
            return
        except ServiceUnavailable as exc:
            # Fail closed: a ticket that cannot be checked (cache down) lets nobody in.
            await self.send_chat_error(exc, None)
            await self.close_with(CLOSE_TRY_AGAIN_LATER, "unavailable")
            return
        if setup is None:
            await self.close_with(CLOSE_NOT_AUTHENTICATED, "not authenticated")
            return
        # A ticket's credential, for the re-checks (handshakes.credential_holds).
        self.scope.update(tickets.scope_entries(setup.credential))
        user = self.user = setup.user
        self.user_id = user.pk
        self.rooms = {
            f.room_id: Followed(f.room_id, f.slug, f.room, f.access, last=f.last)
            for f in setup.rooms
        }
        await events.follow(self, room_ids=list(self.rooms), user_id=user.pk)
        self.registered = True
        self.validated_at = time.monotonic()
        sweeper = revalidation.get_sweeper()
        sweeper.add(self)
        sweeper.expire_at(self, revalidation.deadline(setup.expires))
        try:
            await tracker.opened(user.pk, self.channel_name)
        except TooManyConnections:
            await self.close_with(CLOSE_TOO_MANY, "too many connections")
            return
        if not self.multiplexed and since is not None:
            try:
                target = next(iter(self.rooms.values()))
                # Nothing newer than ``since`` when the socket was set up: a page opening or
                # a tab reconnecting after a deploy, which must not spend the limit meant
                # for catch-ups (a later page of the replay still pays).
                charge = target.last is None or since < target.last
                await self.resume(target, since, None, charge=charge)
            except RateLimited:
                await self.close_with(CLOSE_TOO_MANY, "too many resumes")

    def room_slug(self) -> str | None:
        """The room of ``ws/chat/<slug>/``; None on ``ws/chat/`` (every room joined)."""
        return None

    async def disconnect(self, code: int) -> None:
        revalidation.get_sweeper().discard(self)
        if not self.registered:
            return
        self.registered = False
        await events.unfollow(self, room_ids=list(self.rooms), user_id=self.user.pk)
        await tracker.closed(self.user.pk, self.channel_name)

    async def close_with(self, code: int, reason: str) -> None:
        self.closing = True
        await self.close(code=code, reason=reason)

    # Client frames -------------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.closing:
            return
        if text_data is None:
            await self.send_error("binary_not_supported", _("Frames are JSON text, not binary."))
            return
        limit = app_settings.MAX_FRAME_BYTES
        if len(text_data) > limit:
            await self.close_with(CLOSE_TOO_LARGE, "frame too large")
            return
        try:
            size = len(text_data.encode())
        except UnicodeEncodeError:
            # Lone surrogates: not UTF-8. ASGI servers decode strictly, but an ASGI
            # application can be handed any str; it must not crash the consumer.
            await self.send_error("bad_json", _("The frame is not valid UTF-8 text."))
            return
        if size > limit:
            await self.close_with(CLOSE_TOO_LARGE, "frame too large")
            return
        try:
            data = json.loads(text_data)
        except (ValueError, RecursionError):  # RecursionError: nesting deeper than ~1,000.
            await self.send_error("bad_json", _("The frame is not valid JSON."))
            return
        if not isinstance(data, dict):
            await self.send_error("bad_json", _("A frame is a JSON object."))
            return
        # Repeated in the answer only if valid: an invalid id is itself an invalid frame.
        frame_id = echo_id(data.get("id"))
        model = CLIENT_FRAMES.get(data["type"]) if isinstance(data.get("type"), str) else None
        if model is None:
            await self.send_error("unknown_type", _("Unknown frame type."), frame_id)
            return
        try:
            frame = model.model_validate(data)
        except ValidationError as exc:
            fields: dict[str, list[str]] = {}
            for error in exc.errors():
                key = ".".join(str(part) for part in error["loc"]) or "__all__"
                fields.setdefault(key, []).append(error["msg"])
            await self.send_error("invalid_frame", _("Invalid frame."), frame_id, fields=fields)
            return
        try:
            await self.handle(frame)
        except ChatError as exc:
            await self.send_chat_error(exc, frame.id)
        except Exception as exc:
            if is_unavailable(exc):
                logger.warning(
                    "Service unavailable handling a %s frame (user %s): %r",
                    model.__name__,
                    self.user.pk,
                    exc,
                )
                await self.send_chat_error(ServiceUnavailable(), frame.id)
                return
            logger.exception(
                "Unexpected error handling a %s frame (user %s, frame id %r, path %s)",
                model.__name__,
                self.user.pk,
                frame.id,
                self.scope.get("path"),
            )
            await self.send_error("internal_error", _("Something went wrong."), frame.id)

    async def handle(self, frame: ClientFrame) -> None:
        if isinstance(frame, Ping):
            await self.send_frame(Pong(id=frame.id))
            return
        # A state-changing frame on a socket not checked for a while: check first (the
        # backstop for any cause whose signal this socket missed). The frame gets no answer
        # when the socket closes.
        stale = time.monotonic() - self.validated_at > revalidation.frame_age()
        if stale and await self.revalidate() is None:
            return
        if isinstance(frame, SendMessage):
            target = await self.target(frame.room)
            room, access = await self.room_access(target)
            data = await self.store(room, frame, access)
            await self.ack(frame, data)
        elif isinstance(frame, EditMessage):
            target = await self.target(frame.room)
            data = await database_sync_to_async(_edit)(self.user, frame, target.room_id)
            await self.ack(frame, data)
        elif isinstance(frame, DeleteMessage):
            target = await self.target(frame.room)
            data = await database_sync_to_async(_delete)(self.user, frame, target.room_id)
            await self.ack(frame, data)
        elif isinstance(frame, TypingFrame):
            await self.typing(frame)
        elif isinstance(frame, ReadFrame):
            target = await self.target(frame.room)
            room, access = await self.room_access(target)
            await database_sync_to_async(services.check_mark_read)(
                self.user, room, frame.seq, access
            )
            await self.send_frame(Ack(id=frame.id))
        elif isinstance(frame, ResumeFrame):
            target = await self.target(frame.room)
            # A resume re-decides access: it is the moment a client (re)joins a room.
            target.access = None
            await self.room_access(target)
            await self.resume(target, frame.event_seq, frame.id)

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

    async def store(self, room: ChatRoom, frame: SendMessage, access: RoomAccess) -> MessageData:
        """Store a send: with the process's other sends (group commit) unless disabled."""
        if app_settings.SEND_BATCH_MAX <= 1:
            return await database_sync_to_async(_send)(self.user, room, frame, access)
        request = SendRequest(
            self.user,
            room,
            frame.content,
            client_id=frame.client_id,
            reply_to=frame.reply_to,
            access=access,
        )
        return await get_batcher().send(request)

    async def ack(self, frame: ClientFrame, data: MessageData) -> None:
        await self.send_frame(Ack(id=frame.id, client_id=data.client_id, message=data))

    async def typing(self, frame: TypingFrame) -> None:
        target = await self.target(frame.room)
        room, access = await self.room_access(target)
        if room.is_archived:
            raise RoomArchived()
        if not access.can_post:
            raise PermissionDenied()
        # Typing is advisory: over the rate it is dropped silently, never an error.
        if await sync_to_async(ratelimit.allow_typing)(self.user):
            await events.apublish_to_room(
                target.room_id,
                Typing(
                    room=target.slug,
                    user=user_ref(self.user),
                    state=frame.state,
                    expires_in=app_settings.TYPING_TIMEOUT,
                ),
            )
        if frame.id is not None:
            await self.send_frame(Ack(id=frame.id))

    async def resume(
        self, target: Followed, since: int, frame_id: Any, *, charge: bool = True
    ) -> None:
        """Replay the room's changes after ``since``, then mark the seam with ``resumed``.

        The connection follows the room's group before this runs, and hub frames are held
        while it runs; they are delivered after the replay, minus those the replay covered
        (``floor``).

        Replays are rate-limited per user (``RESUME_RATE_*``), a token per page of up to
        ``MAX_PAGE_SIZE`` changes sent, so that a small catch-up costs one and a full
        ``RESUME_MAX_EVENTS`` replay costs many: without a token for the first page,
        :class:`RateLimited` and nothing is sent; without one for a later page, the
        replay ends there, ``truncated`` (the client resumes from there, and is then
        told how long to wait). ``charge=False``: the first page is free (a reconnect
        that was up to date when its socket was set up).
        """
        if charge:
            await sync_to_async(ratelimit.check_rate)("resume", self.user)
        self.hold()
        try:
            await self._replay(target, since, frame_id)
        finally:
            self.release()

    async def _replay(self, target: Followed, since: int, frame_id: Any) -> None:
        room, _access = await self.room_access(target)
        if not self.multiplexed:
            await self.send_frame(await database_sync_to_async(_participants)(room))
        cursor, truncated = await self.send_changes(target, since, charged=True)
        target.floor = max(target.floor, cursor)
        target.last = max(target.last or 0, cursor)
        await self.send_frame(
            Resumed(room=target.slug, event_seq=cursor, truncated=truncated, id=frame_id)
        )

    async def send_changes(
        self, target: Followed, since: int, *, charged: bool = False
    ) -> tuple[int, bool]:
        """Send the room's changes after ``since`` as live frames, a page per query, at
        most ``RESUME_MAX_EVENTS``: the newest sent (or ``since``) and whether more wait.
        Live frames they cover are dropped from then on (``floor``). ``charged``: a
        client's replay, whose first page is paid for already; each later page takes a
        ``resume`` token, and without one the replay stops there (more wait)."""
        room, _access = await self.room_access(target)
        page = app_settings.MAX_PAGE_SIZE
        budget = app_settings.RESUME_MAX_EVENTS
        cursor = since
        first = True
        while True:
            size = min(page, budget)
            if size <= 0:
                return cursor, True
            # A client's replay pays a token for each page after its first (paid up front).
            paying = charged and not first
            if paying and not await sync_to_async(ratelimit.allow)("resume", self.user):
                return cursor, True
            first = False
            batch = await database_sync_to_async(_changes)(room, cursor, size)
            for event_seq, text in batch:
                await self.send(text_data=text)
                cursor = event_seq
                target.floor = max(target.floor, event_seq)
                target.last = max(target.last or 0, event_seq)
            budget -= len(batch)
            if len(batch) < size:
                return cursor, False

    # Layer messages ------------------------------------------------------------------

    async def chat_frame(self, event: dict[str, Any]) -> None:
        """Membership frames (the inbox gets no others): they change what is followed."""
        if self.closing:
            return
        if event.get("frame_type") == "room.added":
            await self.room_added(event)
        else:
            await self.room_removed(event)

    async def room_added(self, event: dict[str, Any]) -> None:
        await self.send(text_data=event["frame"])

    async def room_removed(self, event: dict[str, Any]) -> None:
        await self.send(text_data=event["frame"])

    async def chat_access_changed(self, event: dict[str, Any]) -> None:
        await self.revalidate()

    async def chat_session_changed(self, event: dict[str, Any]) -> None:
        await self.revalidate()

    async def chat_revalidate(self, event: dict[str, Any]) -> None:
        """Asked by the process's sweeper (:mod:`smartcampus_chat.realtime.revalidation`)."""
        await self.revalidate()

    async def revalidate(self) -> dict[int, int] | None:
        """Check the credential and decide access again, as if the socket connected now.

        The session must still hold (:func:`~.handshakes.still_signed_in`'s rule: 4001
        otherwise); the user is re-read (staff status, groups...) and the followed rooms
        are those access now allows (4003 / ``room.removed`` for a room lost). Each
        followed room's newest ``event_seq`` as read meanwhile; None: the socket closed.
        """
        if self.closing:
            return None
        self.validated_at = time.monotonic()
        request = RevalidateRequest(self.user_id, self.scope, self.room_slug())
        try:
            setup = await get_revalidate_batcher().submit(request)
        except NotFound:
            await self.access_lost()
            return None
        if setup is None:
            await self.close_with(CLOSE_NOT_AUTHENTICATED, "session ended")
            return None
        self.user = setup.user
        # Read again now: a sliding expiry (SESSION_SAVE_EVERY_REQUEST) moved it.
        revalidation.get_sweeper().expire_at(self, revalidation.deadline(setup.expires))
        return await self.apply_access(setup.rooms)

    async def apply_access(self, rooms: list[FollowedRoom]) -> dict[int, int] | None:
        """Follow ``rooms`` (what access allows now); as :meth:`revalidate`."""
        raise NotImplementedError

    async def access_lost(self) -> None:
        await self.close_with(CLOSE_NOT_ALLOWED, "no longer allowed")

    async def chat_session_ended(self, event: dict[str, Any]) -> None:
        await self.close_with(CLOSE_NOT_AUTHENTICATED, "session ended")

    async def chat_layer_resumed(self, event: dict[str, Any]) -> None:
        """The hub lost layer messages (Redis restarted...) and is back: make up for them.

        Access changes may have been among them, so access is decided again first; then
        each room's changes after the newest one this socket sent go out as live frames
        would have, in order, so a client sees no gap (more than ``RESUME_MAX_EVENTS``: the
        next live frame shows one and the client resumes). A logout or deactivation
        during the outage closes the socket with 4001.
        """
        if self.closing:
            return
        newest = await self.revalidate()
        if newest is None or self.outbox.finished:  # Access lost: the socket is closed.
            return
        for room_id, followed in list(self.rooms.items()):
            if followed.last is None:
                continue
            since = max(followed.last, followed.floor)
            if newest.get(room_id, 0) > since:
                await self.send_changes(followed, since)

    async def chat_room_gone(self, event: dict[str, Any]) -> None:
        raise NotImplementedError

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

    async def drop_room(self, followed: Followed) -> None:
        self.rooms.pop(followed.room_id, None)
        await events.unfollow(self, room_ids=[followed.room_id])


class RoomConsumer(ChatConsumer):
    """One room per connection: ``ws/chat/<slug>/``."""

    def room_slug(self) -> str | None:
        return str(self.scope["url_route"]["kwargs"]["slug"])

    @property
    def followed(self) -> Followed:
        return next(iter(self.rooms.values()))

    async def room_removed(self, event: dict[str, Any]) -> None:
        await self.send(text_data=event["frame"])
        if event.get("room_slug") == self.followed.slug:
            await self.close_with(CLOSE_NOT_ALLOWED, "no longer allowed")

    async def apply_access(self, rooms: list[FollowedRoom]) -> dict[int, int] | None:
        followed = self.followed
        now = rooms[0] if rooms else None
        if now is None or now.room_id != followed.room_id:
            await self.close_with(CLOSE_ROOM_GONE, "room gone")  # Another room took the slug.
            return None
        followed.room, followed.access = now.room, now.access
        return {now.room_id: now.last or 0}

    async def access_lost(self) -> None:
        followed = self.followed
        if await database_sync_to_async(_room_exists)(followed.room_id):
            await self.send_frame(RoomRemoved(room=followed.slug))
            await self.close_with(CLOSE_NOT_ALLOWED, "no longer allowed")
        else:
            await self.close_with(CLOSE_ROOM_GONE, "room gone")

    async def chat_room_gone(self, event: dict[str, Any]) -> None:
        if event.get("room_id") == self.followed.room_id:
            await self.close_with(CLOSE_ROOM_GONE, "room gone")


class UserConsumer(ChatConsumer):
    """Every room the user joined: ``ws/chat/``. Frames name their room with ``room``."""

    multiplexed = True

    async def room_added(self, event: dict[str, Any]) -> None:
        room_id, slug = event.get("room_id"), event.get("room_slug")
        if isinstance(room_id, int) and isinstance(slug, str) and room_id not in self.rooms:
            # Subscribe before telling the client, so that nothing sent after this is missed.
            self.rooms[room_id] = Followed(room_id, slug)
            await events.follow(self, room_ids=[room_id])
        await self.send(text_data=event["frame"])

    async def room_removed(self, event: dict[str, Any]) -> None:
        slug = event.get("room_slug")
        dropped = False
        for followed in list(self.rooms.values()):
            if followed.slug == slug:
                await self.drop_room(followed)
                dropped = True
        if dropped:  # Else already told (a re-check of access got there first).
            await self.send(text_data=event["frame"])

    async def apply_access(self, rooms: list[FollowedRoom]) -> dict[int, int] | None:
        now = {f.room_id: f.slug for f in rooms}
        for followed in list(self.rooms.values()):
            followed.room = followed.access = None  # Re-decided on next use.
            if followed.room_id not in now:
                await self.drop_room(followed)
                await self.send_frame(RoomRemoved(room=followed.slug))
        for room_id, slug in now.items():
            if room_id not in self.rooms:
                self.rooms[room_id] = followed = Followed(room_id, slug)
                await events.follow(self, room_ids=[room_id])
                room = await database_sync_to_async(ChatRoom.objects.get)(pk=room_id)
                followed.last = room.last_event_seq
                await self.send_frame(RoomAdded(room=room_data(room)))
        return {f.room_id: f.last or 0 for f in rooms}

    async def chat_room_gone(self, event: dict[str, Any]) -> None:
        followed = self.rooms.get(event.get("room_id", -1))
        if followed is not None:
            await self.drop_room(followed)
            await self.send_frame(RoomRemoved(room=followed.slug))
