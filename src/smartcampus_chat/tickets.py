"""Public import path of WebSocket tickets for hosts' own clients (they live in
:mod:`smartcampus_chat.realtime.tickets`). Kept after the package was regrouped by layer (0.3).
"""

from smartcampus_chat.realtime.tickets import issue_ticket

__all__ = ["issue_ticket"]
