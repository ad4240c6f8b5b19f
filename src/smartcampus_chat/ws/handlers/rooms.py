"""Rooms joined and left while a socket is open (``room.added``, ``room.removed``, a room
deleted, access decided again): what each endpoint follows then.

These handle the hub's membership messages, not client frames (joining and leaving go
through the REST API and the pages). :class:`RoomEndpoint` (``ws/chat/<slug>/``) closes
when its room is lost; :class:`UserEndpoint` (``ws/chat/``) follows and drops rooms and
keeps the client's room list live.
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async

from smartcampus_chat import queries
from smartcampus_chat.protocol.frames import RoomAdded, RoomRemoved
from smartcampus_chat.realtime import events
from smartcampus_chat.services.connections import FollowedRoom
from smartcampus_chat.ws.socket import CLOSE_NOT_ALLOWED, CLOSE_ROOM_GONE, Followed, Socket


class RoomEndpoint(Socket):
    """One room per connection: ``ws/chat/<slug>/``."""

    __slots__ = ()

    def room_slug(self) -> str | None:
        return str(self.scope["url_route"]["kwargs"]["slug"])

    @property
    def followed(self) -> Followed:
        return next(iter(self.rooms.values()))

    async def room_added(self, event: dict[str, Any]) -> None:
        await self.send(text_data=event["frame"])

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
        if await database_sync_to_async(queries.room_exists)(followed.room_id):
            await self.send_frame(RoomRemoved(room=followed.slug))
            await self.close_with(CLOSE_NOT_ALLOWED, "no longer allowed")
        else:
            await self.close_with(CLOSE_ROOM_GONE, "room gone")

    async def chat_room_gone(self, event: dict[str, Any]) -> None:
        if event.get("room_id") == self.followed.room_id:
            await self.close_with(CLOSE_ROOM_GONE, "room gone")


class UserEndpoint(Socket):
    """Every room the user joined: ``ws/chat/``. Frames name their room with ``room``."""

    __slots__ = ()
    multiplexed = True

    def room_slug(self) -> str | None:
        return None

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
                data = await database_sync_to_async(queries.room_payload_by_id)(self.user, room_id)
                followed.last = data.last_event_seq
                await self.send_frame(RoomAdded(room=data))
        return {f.room_id: f.last or 0 for f in rooms}

    async def access_lost(self) -> None:
        await self.close_with(CLOSE_NOT_ALLOWED, "no longer allowed")

    async def chat_room_gone(self, event: dict[str, Any]) -> None:
        followed = self.rooms.get(event.get("room_id", -1))
        if followed is not None:
            await self.drop_room(followed)
            await self.send_frame(RoomRemoved(room=followed.slug))
