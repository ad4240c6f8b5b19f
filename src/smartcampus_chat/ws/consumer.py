"""WebSocket doors. Thin: parse a frame, dispatch it to its handler, send frames back.

Two endpoints share one implementation (:class:`ChatConsumer`): ``ws/chat/<slug>/``
(:class:`RoomConsumer`) follows one room; ``ws/chat/`` (:class:`UserConsumer`) follows
every room the user joined and keeps the room list live (docs/protocol.md).

This module connects, disconnects, reads client frames and hub messages and dispatches
them: a client frame to its handler (:data:`.handlers.ROUTES`, one per client type of the
frame registry, in ``ws/handlers/<feature>.py``), a hub message to the ``chat_*`` method
of its type. The connection's state and delivery order are :class:`.socket.Socket`'s
(connections have no layer channel: the process's hub calls ``deliver``); what each
endpoint does when its rooms change is :mod:`.handlers.rooms`'.

Access is decided when a connection follows a room and re-decided when the layer says it
changed (``chat.access_changed``, ``chat.session_changed``, ``chat.session_ended``,
``room.removed``), never per delivered frame. As a backstop for changes nobody signalled,
each connection re-checks its session and access at an interval (``chat.revalidate`` from
:mod:`smartcampus_chat.realtime.revalidation`) and before a state-changing client frame
when its last check is older than ``REVALIDATE_FRAME_AGE`` (:meth:`ChatConsumer.revalidate`).

A socket's ``message.send`` frames do not wait for each other: they are checked, queued
for the group commit and answered in frame order by the socket's send pipeline
(:mod:`.pipeline`, which says what it keeps: order, answers, backpressure, revocation).
Any other frame waits until the sends read before it are answered.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import Any

from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from django.utils.translation import gettext as _

from smartcampus_chat.conf import app_settings
from smartcampus_chat.domain.validation import parse_int
from smartcampus_chat.exceptions import ChatError, NotFound, RateLimited, ServiceUnavailable
from smartcampus_chat.infra.outages import is_unavailable
from smartcampus_chat.models import ChatRoom
from smartcampus_chat.protocol.frames import (
    MAX_NUMBER,
    SUPPORTED_VERSIONS,
    ClientFrame,
    ErrorFrame,
    RoomAdded,
    SendMessage,
)
from smartcampus_chat.protocol.registry import frame_type
from smartcampus_chat.realtime import events, revalidation, tickets
from smartcampus_chat.realtime.presence import TooManyConnections, tracker
from smartcampus_chat.realtime.sockets import CLOSE_TOO_SLOW, Inbox, Message, Outbox, raw_send
from smartcampus_chat.ws import pipeline
from smartcampus_chat.ws.handlers import Route, history
from smartcampus_chat.ws.handlers.history import changes as _changes

# Importable from here as before this module was split (tests patch it).
from smartcampus_chat.ws.handlers.messages import _send as _send
from smartcampus_chat.ws.handlers.rooms import RoomEndpoint, UserEndpoint
from smartcampus_chat.ws.parse import BadFrame, ParsedFrame, parse_frame
from smartcampus_chat.ws.pipeline import Entry
from smartcampus_chat.ws.setup import (
    RevalidateRequest,
    SetUpRequest,
    get_revalidate_batcher,
    get_set_up_batcher,
    query_params,
    socket_session_key,
)
from smartcampus_chat.ws.socket import (
    CLOSE_BAD_REQUEST,
    CLOSE_NOT_ALLOWED,
    CLOSE_NOT_AUTHENTICATED,
    CLOSE_ROOM_GONE,
    CLOSE_TOO_LARGE,
    CLOSE_TOO_MANY,
    CLOSE_TRY_AGAIN_LATER,
    CLOSE_UNSUPPORTED_VERSION,
    Followed,
    Socket,
)

logger = logging.getLogger(__name__)

_ROOM_ADDED = frame_type(RoomAdded)

__all__ = [
    "CLOSE_BAD_REQUEST",
    "CLOSE_NOT_ALLOWED",
    "CLOSE_NOT_AUTHENTICATED",
    "CLOSE_ROOM_GONE",
    "CLOSE_TOO_LARGE",
    "CLOSE_TOO_MANY",
    "CLOSE_TOO_SLOW",
    "CLOSE_TRY_AGAIN_LATER",
    "CLOSE_UNSUPPORTED_VERSION",
    "ChatConsumer",
    "RoomConsumer",
    "UserConsumer",
]


class ChatConsumer(Socket):
    """Shared machinery of both endpoints; subclasses say which rooms are followed."""

    __slots__ = ()

    # ASGI entry and dispatch -----------------------------------------------------------

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
                if self.pipe is not None and self.pipe.full:
                    await self.pipe.ready()  # Backpressure: read no frame meanwhile.
                message = await receive()
                parsed = None
                if message["type"] == "websocket.receive" and not self.closing:
                    parsed = parse_frame(message.get("text"), app_settings.MAX_FRAME_BYTES)
                sends = (
                    isinstance(parsed, ParsedFrame)
                    and parsed.route.model is SendMessage
                    and pipeline.enabled()
                )
                if not sends and self.pipe is not None:
                    # Outside the turn: a paused send may need the inbox to go on.
                    await self.pipe.drain()
                async with self.turn:
                    if parsed is None:
                        await self.dispatch(message)
                    else:
                        await self.dispatch_frame(parsed, pipelined=sends)
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
        connection as one while handling a client frame does. A batch storing this
        socket's sends settles first (their answers come before what they caused: one's
        first message's ``room.added``); the sends it paused (:meth:`.socket.Socket.deliver`)
        go on after, checked again."""
        async with self.turn:
            try:
                if self.pipe is not None:
                    await self.pipe.running_settled()
                await self.dispatch(message, queued=True)
            except Exception as exc:
                await self.resume_sends(admit=False)
                if self.failure is None and self.main is not None:
                    self.failure = exc
                    self.main.cancel()
            except BaseException:
                await self.resume_sends(admit=False)
                raise
            else:
                await self.resume_sends()

    async def dispatch(self, message: Message, *, queued: bool = False) -> None:
        """Handle one message; hub frames wait meanwhile, as on a Channels channel.

        So the answer to a client frame (an ``ack``) comes before the frames it caused
        (one's own ``message.new``), and state changes apply before later frames.
        ``queued``: a message of the inbox, which took a hold when the hub queued it.
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
            if queued:
                self.holds -= 1  # The hold taken when the hub queued it.
            self.release()

    def read_changes(self, room: ChatRoom, since: int, limit: int) -> list[tuple[int, str]]:
        # Looked up here at each call: the seam where tests make a send race a replay.
        return _changes(room, since, limit)

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
                await history.resume(self, target, since, None, charge=charge)
            except RateLimited:
                await self.close_with(CLOSE_TOO_MANY, "too many resumes")

    async def disconnect(self, code: int) -> None:
        revalidation.get_sweeper().discard(self)
        if not self.registered:
            return
        self.registered = False
        await events.unfollow(self, room_ids=list(self.rooms), user_id=self.user.pk)
        await tracker.closed(self.user.pk, self.channel_name)

    # Client frames -------------------------------------------------------------------

    async def dispatch_frame(self, parsed: ParsedFrame | BadFrame, *, pipelined: bool) -> None:
        """A client frame read (and parsed) by :meth:`__call__`; as :meth:`dispatch`."""
        self.hold()
        try:
            if pipelined and isinstance(parsed, ParsedFrame):
                frame = parsed.frame
                assert isinstance(frame, SendMessage)
                await self.admit_send(self.pipeline.add(frame))
            else:
                await self.answer(parsed)
        finally:
            self.release()

    async def admit_send(self, entry: Entry, *, recheck: bool = True) -> None:
        """Check a send as :meth:`handle` and the handler would, then queue it for the group
        commit without waiting; its answer comes in its place (:mod:`.pipeline`).
        ``recheck``: a new frame (a stale socket checks first); not a paused one."""
        frame, pipe = entry.frame, self.pipeline
        try:
            stale = time.monotonic() - self.validated_at > revalidation.frame_age()
            if recheck and stale and await self.revalidate() is None:
                pipe.fail(entry, None)  # The socket closed: no answer, as for any frame.
                return
            target = await self.target(frame.room)
            room, access = await self.room_access(target)
        except Exception as exc:
            pipe.fail(entry, self.error_frame(exc, frame).model_dump_json())
            return
        if self.closing:  # Closed meanwhile (or before): no answer, nothing stored.
            pipe.fail(entry, None)
            return
        pipe.queue(entry, pipeline.request_for(self, frame, room, access))

    def error_frame(self, exc: BaseException, frame: ClientFrame) -> ErrorFrame:
        if not isinstance(exc, ChatError):
            model = type(frame).__name__
            if is_unavailable(exc):
                logger.warning(
                    "Service unavailable handling a %s frame (user %s): %r",
                    model,
                    self.user.pk,
                    exc,
                )
                exc = ServiceUnavailable()
            else:
                logger.error(
                    "Unexpected error handling a %s frame (user %s, frame id %r, path %s)",
                    model,
                    self.user.pk,
                    frame.id,
                    self.scope.get("path"),
                    exc_info=exc,
                )
                return ErrorFrame(
                    code="internal_error", message=_("Something went wrong."), id=frame.id
                )
        return ErrorFrame(
            code=exc.code,
            message=exc.message,
            id=frame.id,
            fields=exc.fields or {},
            retry_after=exc.retry_after,
        )

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.closing:
            return
        await self.answer(parse_frame(text_data, app_settings.MAX_FRAME_BYTES))

    async def answer(self, parsed: ParsedFrame | BadFrame) -> None:
        """Handle a frame that is not pipelined, and answer it."""
        if self.closing:
            return
        if isinstance(parsed, BadFrame):
            if parsed.close is not None:
                await self.close_with(parsed.close, parsed.message)
            else:
                await self.send_error(
                    parsed.code, parsed.message, parsed.frame_id, fields=parsed.fields
                )
            return
        route, frame = parsed.route, parsed.frame
        try:
            await self.handle(route, frame)
        except Exception as exc:
            await self.send_frame(self.error_frame(exc, frame))

    async def handle(self, route: Route, frame: ClientFrame) -> None:
        if route.rechecks:
            # A state-changing frame on a socket not checked for a while: check first (the
            # backstop for any cause whose signal this socket missed). The frame gets no
            # answer when the socket closes.
            stale = time.monotonic() - self.validated_at > revalidation.frame_age()
            if stale and await self.revalidate() is None:
                return
        await route.handler(self, frame)

    # Layer messages ------------------------------------------------------------------

    async def chat_frame(self, event: dict[str, Any]) -> None:
        """Membership frames (the inbox gets no others): they change what is followed."""
        if self.closing:
            return
        if event.get("frame_type") == _ROOM_ADDED:
            await self.room_added(event)
        else:
            await self.room_removed(event)

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

        The socket's sends wait meanwhile: those not yet in a batch are taken back, a
        batch being stored settles first, and after the decision they are checked again
        (:mod:`.pipeline`): none is stored after a revocation this check finds.
        """
        if self.closing:
            return None
        self.pause_sends()
        try:
            if self.pipe is not None:
                await self.pipe.running_settled()
            newest = await self.decide_access()
        except Exception:
            await self.resume_sends()
            raise
        except BaseException:
            await self.resume_sends(admit=False)
            raise
        await self.resume_sends()
        return newest

    async def decide_access(self) -> dict[int, int] | None:
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

    async def chat_session_ended(self, event: dict[str, Any]) -> None:
        await self.close_with(CLOSE_NOT_AUTHENTICATED, "session ended")

    async def chat_layer_resumed(self, event: dict[str, Any]) -> None:
        """The hub lost layer messages (Redis restarted...) and is back: make up for them.

        Access changes may have been among them, so access is decided again first; then
        each room's changes after the newest one this socket sent go out as live frames
        would have, in order, so a client sees no gap (more than ``RESUME_MAX_EVENTS``: the
        next live frame shows one and the client resumes); then each room's presence as
        it is now (``presence.batch``). A logout or deactivation during the outage closes
        the socket with 4001.
        """
        if self.closing:
            return
        newest = await self.revalidate()
        if newest is not None and not self.outbox.finished:  # Else the socket is closed.
            await history.catch_up(self, newest)
            # Presence changes lost meanwhile are not numbered: send the rooms' state.
            await history.send_presence(self, event.get("recovery"))


class RoomConsumer(RoomEndpoint, ChatConsumer):
    """One room per connection: ``ws/chat/<slug>/`` (:class:`.handlers.rooms.RoomEndpoint`)."""

    __slots__ = ()


class UserConsumer(UserEndpoint, ChatConsumer):
    """Every room the user joined: ``ws/chat/`` (:class:`.handlers.rooms.UserEndpoint`)."""

    __slots__ = ()
