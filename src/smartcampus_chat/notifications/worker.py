"""The delivery worker: claims due deliveries, drops those that should no longer go, hands
the rest to their channel and records what became of each.

:func:`deliver_due` is one round, safe to run in several processes at once (a delivery is
claimed by one of them: :mod:`smartcampus_chat.services.deliveries`). Who runs it:

- ``NOTIFY_WORKER = "thread"`` (the default): a daemon thread of each web process, started
  by the first wake-up (a notification written, the first socket of the process), that
  runs a round whenever it is woken and every ``NOTIFY_POLL_INTERVAL`` seconds. The work
  is blocking I/O (SMTP, the push services, the database), so it has a thread of its own
  rather than a task on the server's event loop, which it would stall.
- ``manage.py chat_notifications``: the same loop in a process of its own (WSGI sites,
  or a dedicated worker).
- The host's task queue: ``NOTIFY_ENQUEUE`` names a callable called on each wake-up, whose
  task calls :func:`deliver_due` (and a periodic task does too, for retries and digests).
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections import defaultdict
from datetime import datetime

from django.db import close_old_connections
from django.utils import timezone
from django.utils.module_loading import import_string

from smartcampus_chat.conf import app_settings
from smartcampus_chat.domain import notifications as rules
from smartcampus_chat.domain.policies import get_policy
from smartcampus_chat.infra import jobs
from smartcampus_chat.models import ChatNotificationDelivery, DeliveryChannel
from smartcampus_chat.notifications.channels import Deliver, Outcome, Pending
from smartcampus_chat.queries import notifications as reads
from smartcampus_chat.services import announcements, deliveries

logger = logging.getLogger(__name__)

#: Deliveries claimed per round (a round repeats while it finds a full batch).
BATCH = 200

#: The module of each channel; each defines ``deliver(batch) -> {delivery id: Outcome}``.
CHANNEL_MODULES = {
    DeliveryChannel.PUSH: "smartcampus_chat.notifications.webpush",
    DeliveryChannel.EMAIL: "smartcampus_chat.notifications.email",
}


def channel(name: str) -> Deliver:
    deliver: Deliver = importlib.import_module(CHANNEL_MODULES[DeliveryChannel(name)]).deliver
    return deliver


def deliver_due(now: datetime | None = None) -> int:
    """Deliver what is due by ``now``: the number of deliveries handled (every outcome)."""
    handled = 0
    while True:
        moment = now or timezone.now()
        deliveries.do_expire_claims(moment)
        claimed = deliveries.do_claim_due(moment, BATCH)
        if not claimed:
            return handled
        _deliver(reads.claimed_deliveries(claimed), moment)
        handled += len(claimed)
        if len(claimed) < BATCH:
            return handled


def _deliver(rows: list[ChatNotificationDelivery], now: datetime) -> None:
    preferences = reads.preferences_by_user(row.notification.user_id for row in rows)
    members = reads.read_markers(
        (row.notification.room_id, row.notification.user_id) for row in rows
    )
    online = reads.users_online(
        row.notification.user_id for row in rows if row.channel == DeliveryChannel.PUSH
    )
    outcomes: dict[int, Outcome] = {}
    batches: dict[str, list[Pending]] = defaultdict(list)
    policy = get_policy()
    for row in rows:
        notification = row.notification
        prefs = preferences[notification.user_id]
        member = members.get((notification.room_id, notification.user_id))
        level = member.notify_level if member is not None else ""
        # Whether they still see the room, asked of the policy with the row just read (a
        # person marked in a public room they never joined has none).
        access = policy.access(notification.user, notification.room, member)
        reason = rules.skip_reason(
            row.channel,  # type: ignore[arg-type]
            read=notification.read_at is not None
            or (member is not None and member.last_read_seq >= notification.message.seq),
            deleted=notification.message.is_deleted,
            member=access.can_see,
            level_admits_kind=rules.level_admits(
                rules.effective_level(level, notification.room.room_type), notification.kind
            ),
            muted=member is not None and rules.is_muted(member.muted_until, now),
            chosen_on=rules.channel_enabled(prefs, row.channel),  # type: ignore[arg-type]
            quiet=rules.in_quiet_hours(prefs, now),
            online=notification.user_id in online,
        )
        if reason is not None:
            outcomes[row.pk] = Outcome("skipped", reason)
        else:
            batches[row.channel].append(Pending(row, prefs))
    for name, batch in batches.items():
        outcomes.update(_call(name, batch))
    results = {
        row.pk: (found.state, found.detail)
        if (found := outcomes.get(row.pk)) is not None
        else ("failed", "the channel gave no answer")
        for row in rows
    }
    deliveries.do_record(results, {row.pk: row.attempts for row in rows}, now)


def _call(name: str, batch: list[Pending]) -> dict[int, Outcome]:
    """The channel's outcomes; an error of its own is a retry for the whole batch."""
    try:
        return channel(name)(batch)
    except Exception as exc:
        logger.exception("The %s channel failed on %d deliveries", name, len(batch))
        return {pending.delivery.pk: Outcome("retry", f"error: {exc!r}") for pending in batch}


class _Thread:
    """The in-process worker thread (one per process)."""

    lock = threading.Lock()
    thread: threading.Thread | None = None


def remind_due() -> int:
    """The announcements' reminders due now (``services.do_send_due_reminders``): each
    round of the worker sends them, once each, before delivering."""
    return announcements.do_send_due_reminders()


def _run() -> None:
    event = jobs.event(jobs.NOTIFICATIONS)
    while True:
        event.wait(timeout=app_settings.NOTIFY_POLL_INTERVAL)
        event.clear()
        try:
            remind_due()
            deliver_due()
        except Exception:
            logger.exception("Delivering notifications failed; next round in a moment")
        finally:
            close_old_connections()


def ensure_thread() -> None:
    """Start this process's worker thread if it is not running."""
    with _Thread.lock:
        if _Thread.thread is not None and _Thread.thread.is_alive():
            return
        _Thread.thread = threading.Thread(
            target=_run, name="smartcampus-chat-notifications", daemon=True
        )
        _Thread.thread.start()


def wake() -> None:
    """There may be deliveries due: tell whoever delivers them (registered with
    :mod:`smartcampus_chat.infra.jobs` at start-up)."""
    if not (rules.site_channel_on("push") or rules.site_channel_on("email")):
        return
    if app_settings.NOTIFY_ENQUEUE:
        import_string(app_settings.NOTIFY_ENQUEUE)()
        return
    if app_settings.NOTIFY_WORKER == "thread":
        ensure_thread()
    jobs.event(jobs.NOTIFICATIONS).set()
