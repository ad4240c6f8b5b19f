"""Public import path of the access policy (it lives in :mod:`smartcampus_chat.domain.policies`).

Hosts subclass :class:`ChatPolicy` and name it in the ``POLICY`` setting; this path keeps
working for them after the package was regrouped by layer (0.3).
"""

from smartcampus_chat.domain.policies import (
    NO_ACCESS,
    ChatPolicy,
    RoomAccess,
    get_policy,
    is_active_user,
)

__all__ = ["NO_ACCESS", "ChatPolicy", "RoomAccess", "get_policy", "is_active_user"]
