"""What the worker hands a channel, and what the channel answers (the contract of
``deliver`` in each channel module: ``webpush``, ``email``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from smartcampus_chat.models import ChatNotificationDelivery, ChatPreferences


@dataclass(frozen=True)
class Pending:
    """One claimed delivery, everything loaded (no query needed): ``delivery.notification``
    with its ``message``, ``room``, ``actor`` and ``user``."""

    delivery: ChatNotificationDelivery
    preferences: ChatPreferences


@dataclass(frozen=True)
class Outcome:
    state: Literal["sent", "skipped", "failed", "retry"]
    detail: str = ""


#: A channel's ``deliver``: outcomes by delivery id.
Deliver = Callable[[list[Pending]], dict[int, Outcome]]
