"""What a delivery channel is given and answers (Web Push, e-mail)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from smartcampus_chat.models import ChatNotificationDelivery, ChatPreferences


@dataclass(frozen=True)
class Pending:
    """One claimed delivery, with everything a channel reads loaded (no query needed):
    ``delivery.notification`` and its ``message``, ``room``, ``actor`` and ``user``."""

    delivery: ChatNotificationDelivery
    preferences: ChatPreferences


@dataclass(frozen=True)
class Outcome:
    """What became of a delivery. ``retry``: not delivered, try again later (with backoff,
    until ``NOTIFY_MAX_ATTEMPTS``); ``failed``: not delivered, never tried again."""

    state: Literal["sent", "skipped", "failed", "retry"]
    detail: str = ""


#: A channel: delivers a batch, answers an outcome by delivery id (a missing id: failed).
Deliver = Callable[[list[Pending]], dict[int, Outcome]]
