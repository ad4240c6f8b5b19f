"""Deliveries of notifications through Web Push and e-mail: claimed once, recorded once.

A delivery is claimed (``sending``, its attempt counted) before its channel is called, by
one worker only: ``SELECT ... FOR UPDATE SKIP LOCKED`` where the database has it, and on
every database a conditional ``UPDATE`` stamped with the claim's token, so that two
workers never hold the same row. A worker that dies while sending leaves the row
``sending``; after ``NOTIFY_LEASE`` seconds it is marked ``failed``, never sent again: a
notification goes at most once per channel.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Literal

from django.db import connection, transaction
from django.db.models import F

from smartcampus_chat.conf import app_settings
from smartcampus_chat.models import ChatNotificationDelivery, DeliveryState

#: Seconds before the first retry; each next one waits four times longer.
FIRST_RETRY = 30


def do_expire_claims(now: datetime) -> int:
    """Deliveries claimed longer than the lease ago by a worker that never answered."""
    stale = now - timedelta(seconds=app_settings.NOTIFY_LEASE)
    return ChatNotificationDelivery.objects.filter(
        state=DeliveryState.SENDING, claimed_at__lt=stale
    ).update(state=DeliveryState.FAILED, detail="the worker stopped while sending")


def do_claim_due(now: datetime, limit: int) -> list[int]:
    """Claim at most ``limit`` pending deliveries due by ``now``, oldest first: their ids."""
    token = "claim:" + secrets.token_hex(8)
    with transaction.atomic():
        due = ChatNotificationDelivery.objects.filter(
            state=DeliveryState.PENDING, due_at__lte=now
        ).order_by("due_at", "pk")
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        ids = list(due.values_list("pk", flat=True)[:limit])
        if not ids:
            return []
        ChatNotificationDelivery.objects.filter(pk__in=ids, state=DeliveryState.PENDING).update(
            state=DeliveryState.SENDING,
            claimed_at=now,
            attempts=F("attempts") + 1,
            detail=token,
        )
    return list(
        ChatNotificationDelivery.objects.filter(
            pk__in=ids, state=DeliveryState.SENDING, detail=token
        ).values_list("pk", flat=True)
    )


Result = tuple[Literal["sent", "skipped", "failed", "retry"], str]


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=FIRST_RETRY * 4 ** max(attempts - 1, 0))


def do_record(results: Mapping[int, Result], attempts: Mapping[int, int], now: datetime) -> None:
    """Record what became of claimed deliveries (``results`` by id): a retry goes back to
    ``pending`` after its backoff, or ``failed`` once ``NOTIFY_MAX_ATTEMPTS`` are spent."""
    groups: dict[tuple[str, str], list[int]] = {}
    retries: dict[tuple[int, str], list[int]] = {}
    for pk, (outcome, text) in results.items():
        detail = text[:200]
        if outcome != "retry":
            groups.setdefault((outcome, detail), []).append(pk)
        elif attempts.get(pk, 0) >= app_settings.NOTIFY_MAX_ATTEMPTS:
            groups.setdefault((DeliveryState.FAILED.value, detail), []).append(pk)
        else:
            retries.setdefault((attempts.get(pk, 1), detail), []).append(pk)
    with transaction.atomic():
        for (state, detail), ids in groups.items():
            sent_at = now if state == DeliveryState.SENT.value else None
            ChatNotificationDelivery.objects.filter(pk__in=ids, state=DeliveryState.SENDING).update(
                state=state, detail=detail, sent_at=sent_at
            )
        for (tried, detail), ids in retries.items():
            ChatNotificationDelivery.objects.filter(pk__in=ids, state=DeliveryState.SENDING).update(
                state=DeliveryState.PENDING, due_at=now + backoff(tried), detail=detail
            )
