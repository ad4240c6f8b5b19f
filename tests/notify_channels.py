"""A delivery channel for the worker's tests: records what it is handed and answers the
outcome the test set (``OUTCOME``). The worker's decisions (what is due, what is dropped,
retries, claims) are under test; the real channels (Web Push, e-mail) have tests of their
own against real local servers."""

from __future__ import annotations

from smartcampus_chat.notifications.channels import Outcome, Pending

#: (channel, user id, message id) of every delivery handed over, in order.
DELIVERED: list[tuple[str, int, int]] = []
#: What the channel answers.
OUTCOME: list[Outcome] = [Outcome("sent")]


def deliver(batch: list[Pending]) -> dict[int, Outcome]:
    for pending in batch:
        notification = pending.delivery.notification
        DELIVERED.append((pending.delivery.channel, notification.user_id, notification.message_id))
    return {pending.delivery.pk: OUTCOME[0] for pending in batch}


def reset() -> None:
    DELIVERED.clear()
    OUTCOME[:] = [Outcome("sent")]
