"""The Web Push channel (docs/notifications.md, "Web Push"): ``deliver(batch)``.

For each claimed delivery, the person's browsers (one query for the whole batch) each get
an encrypted push message (RFC 8291 ``aes128gcm``, VAPID-signed, through ``pywebpush``)
whose JSON is ``{title, body, url, tag, notification_id}`` in the person's language. In a
private room the body is "New message" unless the person opted in to the text
(``push_private_content``): the push service and the lock screen see no more.

What the push service answers decides the outcome, per delivery:

- a 2xx from at least one browser: ``sent`` (the others' failures do not resend it);
- 404 or 410: that subscription is gone and deleted; none left: ``skipped``;
- 429, 5xx, a connection error or a timeout: ``retry`` (the worker backs off);
- anything else (400, 403, 413, a redirect): ``failed``;
- no subscription: ``skipped``.

Endpoints are checked again before each POST (:func:`domain.push.check_endpoint`): a
subscription stored before ``WEB_PUSH_ALLOWED_HOSTS`` changed is not posted to. Redirects
are never followed.

Time: each POST waits at most :data:`TIMEOUT`. The people of a batch are served in
parallel (:data:`PARALLEL` at a time, one HTTP session each), a person's deliveries one
after the other. No POST starts after half of ``NOTIFY_LEASE`` has gone by: what is left
is a ``retry`` for the next round, so that a slow push service never keeps a claim past
its lease (the worker would count it failed while it is still being sent). The texts are
built before, on the calling thread: the sending threads never touch the database.
"""

from __future__ import annotations

import json
import logging
import time
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

from django.utils import translation

from smartcampus_chat.conf import app_settings
from smartcampus_chat.domain.notifications import language_of, shows_content
from smartcampus_chat.domain.push import EndpointRefused, check_endpoint, site_push_enabled
from smartcampus_chat.models import ChatPushSubscription, NotificationKind
from smartcampus_chat.notifications.channels import Outcome, Pending
from smartcampus_chat.queries.notifications import notification_texts
from smartcampus_chat.queries.push_subscriptions import subscriptions_of
from smartcampus_chat.services.push_subscriptions import do_record_attempts, do_remove_gone

logger = logging.getLogger(__name__)

#: How long a push service keeps a message for a browser that is offline (seconds).
TTL = 24 * 60 * 60
#: Seconds to connect to a push service, and to wait for its answer.
TIMEOUT = (5.0, 10.0)
#: People served at the same time.
PARALLEL = 8
#: Kinds that ask the push service to wake the device now (``Urgency: high``).
URGENT_KINDS = frozenset({NotificationKind.MENTION, NotificationKind.PRIVATE})
_DETAIL_LENGTH = 200

Result = Literal["sent", "gone", "retry", "failed"]


@dataclass
class _Attempts:
    """What the push services answered, per subscription id."""

    sent: set[int] = field(default_factory=set)
    gone: set[int] = field(default_factory=set)
    failed: set[int] = field(default_factory=set)


@dataclass(frozen=True)
class _Message:
    """One delivery ready to send: its JSON, its urgency and the person's browsers."""

    delivery_id: int
    data: str
    urgency: str
    subscriptions: list[ChatPushSubscription]


def deliver(batch: list[Pending]) -> dict[int, Outcome]:
    """Send each delivery of ``batch`` to its person's browsers; the outcome of each, by
    delivery id (module docstring)."""
    if not batch:
        return {}
    if not site_push_enabled():
        return {p.delivery.pk: Outcome("skipped", "Web Push is off") for p in batch}
    try:
        vapid = _vapid(str(app_settings.WEB_PUSH_VAPID_PRIVATE_KEY))
    except ImportError:
        return {p.delivery.pk: Outcome("failed", "pywebpush is not installed") for p in batch}
    except Exception as exc:  # py_vapid raises several types for a bad key.
        logger.error("WEB_PUSH_VAPID_PRIVATE_KEY cannot be read: %r", exc)
        return {p.delivery.pk: Outcome("failed", "bad VAPID private key") for p in batch}
    try:
        vapid.sign({"sub": str(app_settings.WEB_PUSH_SUBJECT), "aud": "https://push.invalid"})
    except Exception as exc:
        logger.error("WEB_PUSH_SUBJECT is not a mailto: or https: URL: %r", exc)
        return {p.delivery.pk: Outcome("failed", "bad WEB_PUSH_SUBJECT") for p in batch}
    by_user = subscriptions_of(p.delivery.notification.user_id for p in batch)
    outcomes: dict[int, Outcome] = {}
    people: dict[int, list[_Message]] = defaultdict(list)
    for pending in batch:
        user_id = pending.delivery.notification.user_id
        if not by_user.get(user_id):
            outcomes[pending.delivery.pk] = Outcome("skipped", "no subscription")
        else:
            people[user_id].append(_message(pending, by_user[user_id]))
    deadline = time.monotonic() + app_settings.NOTIFY_LEASE / 2
    attempts = _Attempts()
    if people:
        with ThreadPoolExecutor(min(PARALLEL, len(people))) as pool:
            for found in pool.map(
                lambda messages: _send_person(messages, vapid, deadline, attempts),
                people.values(),
            ):
                outcomes.update(found)
    do_remove_gone(attempts.gone)
    do_record_attempts(attempts.sent - attempts.gone, attempts.failed - attempts.sent)
    return outcomes


def _message(pending: Pending, subscriptions: list[ChatPushSubscription]) -> _Message:
    urgent = pending.delivery.notification.kind in URGENT_KINDS
    return _Message(
        delivery_id=pending.delivery.pk,
        data=json.dumps(payload(pending), ensure_ascii=False),
        urgency="high" if urgent else "normal",
        subscriptions=subscriptions,
    )


def payload(pending: Pending) -> dict[str, Any]:
    """The JSON the service worker shows, in the person's language."""
    notification = pending.delivery.notification
    with_content = shows_content(pending.preferences, notification.room.room_type)
    with translation.override(language_of(pending.preferences)):
        texts = notification_texts(notification, with_content=with_content)
    return {
        "title": texts.title,
        "body": texts.body,
        "url": texts.url,
        # One system notification per room: a newer one replaces it (renotify in sw.js).
        "tag": f"scc-room-{notification.room_id}",
        "notification_id": notification.pk,
    }


def _send_person(
    messages: list[_Message], vapid: Any, deadline: float, attempts: _Attempts
) -> dict[int, Outcome]:
    """One person's deliveries, in order, on a thread of the pool (no database here)."""
    outcomes: dict[int, Outcome] = {}
    with _session() as session:
        for message in messages:
            if time.monotonic() >= deadline:
                outcomes[message.delivery_id] = Outcome("retry", "no time left in this round")
                continue
            outcomes[message.delivery_id] = _send_message(message, session, vapid, attempts)
    return outcomes


def _send_message(message: _Message, session: Any, vapid: Any, attempts: _Attempts) -> Outcome:
    live = [s for s in message.subscriptions if s.pk not in attempts.gone]
    if not live:
        return Outcome("skipped", "subscription expired")
    results: dict[Result, list[str]] = {"sent": [], "gone": [], "retry": [], "failed": []}
    for subscription in live:
        result, detail = _send(subscription, message.data, message.urgency, session, vapid)
        results[result].append(detail)
        if result == "sent":
            attempts.sent.add(subscription.pk)
        elif result == "gone":
            attempts.gone.add(subscription.pk)
        else:
            attempts.failed.add(subscription.pk)
    if results["sent"]:
        return Outcome("sent")
    if results["retry"]:
        return Outcome("retry", _detail(results["retry"]))
    if results["failed"]:
        return Outcome("failed", _detail(results["failed"]))
    return Outcome("skipped", "subscription expired")


def _send(
    subscription: ChatPushSubscription, data: str, urgency: str, session: Any, vapid: Any
) -> tuple[Result, str]:
    """One POST to one browser's push service: the result and a detail for the log."""
    import requests
    from pywebpush import WebPushException, webpush

    try:
        check_endpoint(subscription.endpoint)
    except EndpointRefused as exc:
        return "failed", f"endpoint refused: {exc.reason}"
    try:
        webpush(
            subscription_info={
                "endpoint": subscription.endpoint,
                "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
            },
            data=data,
            vapid_private_key=vapid,
            # A fresh dict each time: webpush() writes the audience and expiry into it.
            vapid_claims={"sub": str(app_settings.WEB_PUSH_SUBJECT)},
            content_encoding="aes128gcm",
            ttl=TTL,
            timeout=TIMEOUT,
            headers={"Urgency": urgency},
            requests_session=session,
        )
    except WebPushException as exc:
        status = exc.response.status_code if exc.response is not None else None
        if status is None:
            return "failed", str(exc)[:_DETAIL_LENGTH]
        if 200 <= status < 300:
            return "sent", ""
        return _classify(status), f"push service answered {status}"
    except requests.TooManyRedirects:
        return "failed", "push service redirected"
    except (requests.ConnectionError, requests.Timeout) as exc:
        return "retry", f"push service unreachable: {type(exc).__name__}"
    except requests.RequestException as exc:
        return "failed", f"push request failed: {type(exc).__name__}"
    except Exception as exc:
        # Never let one browser's error fail the batch: the worker would retry all of it,
        # sending again what went out already.
        logger.exception("Web Push to subscription %s failed", subscription.pk)
        return "failed", f"error: {type(exc).__name__}"
    return "sent", ""


def _classify(status: int) -> Result:
    if status in (404, 410):
        return "gone"
    if status == 429 or status >= 500:
        return "retry"
    return "failed"


def _detail(details: list[str]) -> str:
    return "; ".join(sorted(set(details)))[:_DETAIL_LENGTH]


@lru_cache(maxsize=4)
def _vapid(private_key: str) -> Any:
    """The VAPID signer of ``WEB_PUSH_VAPID_PRIVATE_KEY``: PEM, or base64url (the raw 32
    bytes ``manage.py chat_vapid_keys`` prints, or DER)."""
    from py_vapid import Vapid

    if "-----BEGIN" in private_key:
        return Vapid.from_pem(private_key.strip().encode())
    return Vapid.from_string(private_key=private_key.strip())


@contextmanager
def _session() -> Iterator[Any]:
    """One HTTP session for a batch that never follows a redirect (a push service does
    not redirect; following one would POST where the allow-list did not check)."""
    import requests

    session = requests.Session()
    session.max_redirects = 0
    try:
        yield session
    finally:
        session.close()
