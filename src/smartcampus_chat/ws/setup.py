"""Connection set-up in batches: sockets opening (or re-checked) together share trips to
the database thread. The rules (tickets, sessions, access) are
:mod:`smartcampus_chat.services.connections`'; this module batches the requests of one
event loop and reads the socket's URL.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import parse_qs

from smartcampus_chat.infra.batching import Batcher, PerLoop
from smartcampus_chat.services.connections import (
    FollowedRoom,
    RevalidateRequest,
    SetUp,
    SetUpRequest,
    revalidate_many,
    set_up_many,
    socket_session_key,
)

__all__ = [
    "SET_UP_BATCH_MAX",
    "FollowedRoom",
    "RevalidateBatcher",
    "RevalidateRequest",
    "SetUp",
    "SetUpBatcher",
    "SetUpRequest",
    "get_revalidate_batcher",
    "get_set_up_batcher",
    "query_params",
    "set_up_many",
    "socket_session_key",
]

#: Most sockets set up by one trip to the database thread.
SET_UP_BATCH_MAX = 200


def query_params(scope: dict[str, Any]) -> dict[str, str]:
    """The last value of each query-string parameter of ``scope`` (blank ones included:
    ``?event_seq=`` is a malformed number, not an absent one)."""
    raw = scope.get("query_string", b"")
    text = raw.decode("latin-1") if isinstance(raw, bytes) else str(raw)
    return {key: values[-1] for key, values in parse_qs(text, keep_blank_values=True).items()}


class RevalidateBatcher(Batcher[RevalidateRequest, SetUp | None]):
    """Re-checks the open sockets of one event loop, a batch per trip to the database."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(loop, revalidate_many, lambda: SET_UP_BATCH_MAX, "revalidations")


#: The revalidation batcher of the running event loop.
get_revalidate_batcher = PerLoop(RevalidateBatcher).get


class SetUpBatcher(Batcher[SetUpRequest, SetUp | None]):
    """Sets up the sockets of one event loop, a batch per trip to the database thread."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(loop, set_up_many, lambda: SET_UP_BATCH_MAX, "connection set-ups")

    async def set_up(self, request: SetUpRequest) -> SetUp | None:
        """``request``'s set-up with whatever else is waiting; raises its own error."""
        return await self.submit(request)


#: The set-up batcher of the running event loop.
get_set_up_batcher = PerLoop(SetUpBatcher).get
