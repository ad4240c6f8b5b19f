"""Public import path of the notifications hosts send (they live in
:mod:`smartcampus_chat.realtime.events`): tell live sockets that a user's access or session
changed. Kept after the package was regrouped by layer (0.3).
"""

from smartcampus_chat.realtime.events import (
    notify_access_changed,
    notify_room_gone,
    notify_session_changed,
    notify_session_ended,
)

__all__ = [
    "notify_access_changed",
    "notify_room_gone",
    "notify_session_changed",
    "notify_session_ended",
]
