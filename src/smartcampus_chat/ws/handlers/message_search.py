"""``search``: the messages the user may read that match, a page at a time (the read is
:func:`smartcampus_chat.queries.find_messages`, charged by
:func:`smartcampus_chat.services.check_search`; docs/search.md)."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async

from smartcampus_chat import queries, services
from smartcampus_chat.protocol.frames import SearchFrame, SearchResults
from smartcampus_chat.ws.handlers.base import Handlers
from smartcampus_chat.ws.socket import Socket


def _search(user: Any, frame: SearchFrame) -> SearchResults:
    page = services.check_search(
        user,
        frame.q,
        room=frame.room,
        author=frame.author,
        after=frame.after,
        before=frame.before,
        has=tuple(frame.has),
        order=frame.order,
        cursor=frame.cursor,
        limit=frame.limit,
    )
    return SearchResults(id=frame.id, results=queries.hit_payloads(page), next=page.next_cursor)


async def search(socket: Socket, frame: SearchFrame) -> None:
    await socket.send_frame(await database_sync_to_async(_search)(socket.user, frame))


HANDLERS: Handlers = {SearchFrame: search}
