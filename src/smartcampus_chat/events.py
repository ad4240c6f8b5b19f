"""Publishing events: the only module that knows channel-layer group names.

Events are published *after* the surrounding transaction commits: the database is the
truth and the channel layer only rings the doorbell. Each frame is encoded to JSON once,
here, whatever the number of recipients.
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from smartcampus_chat.conf import app_settings
from smartcampus_chat.schema import Schema

logger = logging.getLogger(__name__)

#: The ``type`` of every channel-layer message the app sends; consumers handle it.
LAYER_EVENT_TYPE = "chat.frame"


def room_group(room_id: int) -> str:
    return f"scchat.room.{room_id}"


def user_group(user_id: int) -> str:
    return f"scchat.user.{user_id}"


def layer_message(frame: Schema, **extra: Any) -> dict[str, Any]:
    return {"type": LAYER_EVENT_TYPE, "frame": frame.model_dump_json(), **extra}


def _send(group: str, message: dict[str, Any]) -> None:
    layer = get_channel_layer(app_settings.CHANNEL_LAYER)
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, message)
    except Exception:
        # The event is stored; clients catch up by resuming. Losing the doorbell is logged,
        # never raised into the request that already committed.
        logger.exception("Could not publish to %s", group)


def publish(group: str, frame: Schema, **extra: Any) -> None:
    """Send ``frame`` to ``group`` once the current transaction (if any) commits."""
    message = layer_message(frame, **extra)
    transaction.on_commit(lambda: _send(group, message))


def publish_to_room(room_id: int, frame: Schema, **extra: Any) -> None:
    publish(room_group(room_id), frame, room_id=room_id, **extra)


def publish_to_user(user_id: int, frame: Schema, **extra: Any) -> None:
    publish(user_group(user_id), frame, **extra)


#: Layer-only message types (never sent to clients as such): consumers re-check access.
ACCESS_CHANGED_TYPE = "chat.access_changed"
SESSION_ENDED_TYPE = "chat.session_ended"


def notify_access_changed(user_id: int) -> None:
    """Tell the user's live connections to re-check which rooms they may follow."""
    message = {"type": ACCESS_CHANGED_TYPE}
    transaction.on_commit(lambda: _send(user_group(user_id), message))


def notify_session_ended(user_id: int) -> None:
    """Tell the user's live connections that they logged out or were deactivated."""
    message = {"type": SESSION_ENDED_TYPE}
    transaction.on_commit(lambda: _send(user_group(user_id), message))
