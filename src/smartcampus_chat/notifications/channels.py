"""What the worker hands a channel and what the channel answers (the contract of
``notifications/<channel>.py``: ``deliver(batch) -> {delivery id: Outcome}``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from smartcampus_chat.models import ChatNotificationDelivery, ChatPreferences


@dataclass(frozen=True)
class Pending:
    """One claimed delivery, everything loaded (no query needed)."""

    delivery: ChatNotificationDelivery
    preferences: ChatPreferences


@dataclass(frozen=True)
class Outcome:
    state: Literal["sent", "skipped", "failed", "retry"]
    detail: str = ""


Deliver = Callable[[list[Pending]], dict[int, Outcome]]
