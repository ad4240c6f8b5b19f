"""Web Push subscriptions (docs/notifications.md, "Web Push"): a browser subscribes and
unsubscribes; the push channel records what the push services answered.

A subscription is keyed by its endpoint (one per browser profile): subscribing again
updates the keys, and a browser that another person signs in to is reassigned to them
(the previous person no longer gets notifications on a browser that is not theirs).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Least
from django.utils import timezone
from django.utils.translation import gettext as _

from smartcampus_chat.domain.policies import is_active_user
from smartcampus_chat.domain.push import (
    MAX_ENDPOINT_LENGTH,
    MAX_SUBSCRIPTIONS_PER_USER,
    BadKey,
    EndpointRefused,
    PushKeys,
    check_endpoint,
    check_keys,
    endpoint_hash,
    site_push_enabled,
)
from smartcampus_chat.exceptions import (
    InvalidPushKeys,
    PermissionDenied,
    PushEndpointNotAllowed,
    PushUnavailable,
    ValidationFailed,
)
from smartcampus_chat.models import ChatPushSubscription

#: The user agent kept to name the browser in the admin (the column's size).
MAX_USER_AGENT_LENGTH = 255
#: Failures in a row counted at most (the column is a small integer).
_MAX_FAILURES = 1000


def check_subscribe(
    user: Any, endpoint: str, p256dh: str, auth: str, user_agent: str = ""
) -> ChatPushSubscription:
    """Store ``user``'s browser subscription, once its endpoint and keys pass the rules
    of :mod:`smartcampus_chat.domain.push`."""
    if not is_active_user(user):
        raise PermissionDenied()
    if not site_push_enabled():
        raise PushUnavailable()
    try:
        check_endpoint(endpoint)
    except EndpointRefused as exc:
        raise PushEndpointNotAllowed(
            fields={"endpoint": [str(PushEndpointNotAllowed.default_message)]}
        ) from exc
    try:
        keys = check_keys(p256dh, auth)
    except BadKey as exc:
        raise InvalidPushKeys(
            fields={f"keys.{exc.field}": [str(InvalidPushKeys.default_message)]}
        ) from exc
    agent = "".join(c for c in str(user_agent or "") if c.isprintable())
    return do_subscribe(user, endpoint, keys, agent[:MAX_USER_AGENT_LENGTH])


def do_subscribe(user: Any, endpoint: str, keys: PushKeys, user_agent: str) -> ChatPushSubscription:
    """Upsert by endpoint, then drop ``user``'s oldest browsers beyond
    :data:`MAX_SUBSCRIPTIONS_PER_USER`."""
    with transaction.atomic():
        subscription, _created = ChatPushSubscription.objects.update_or_create(
            endpoint_hash=endpoint_hash(endpoint),
            defaults={
                "user": user,
                "endpoint": endpoint,
                "p256dh": keys.p256dh,
                "auth": keys.auth,
                "user_agent": user_agent,
                "failures": 0,
            },
        )
        beyond = list(
            ChatPushSubscription.objects.filter(user=user)
            .order_by("-created_at", "-id")
            .values_list("id", flat=True)[MAX_SUBSCRIPTIONS_PER_USER:]
        )
        if beyond:
            ChatPushSubscription.objects.filter(id__in=beyond).delete()
    return subscription


def check_unsubscribe(user: Any, endpoint: str) -> bool:
    """Forget ``user``'s subscription of ``endpoint``; whether there was one (unsubscribing
    twice is not an error: the browser may have lost its answer)."""
    if not is_active_user(user):
        raise PermissionDenied()
    if not isinstance(endpoint, str) or not endpoint or len(endpoint) > MAX_ENDPOINT_LENGTH:
        raise ValidationFailed(fields={"endpoint": [_("Not a push endpoint.")]})
    deleted, _counts = ChatPushSubscription.objects.filter(
        user=user, endpoint_hash=endpoint_hash(endpoint)
    ).delete()
    return deleted > 0


def do_remove_gone(subscription_ids: Collection[int]) -> int:
    """Delete subscriptions the push service says are gone (404, 410): one statement."""
    if not subscription_ids:
        return 0
    deleted, _counts = ChatPushSubscription.objects.filter(id__in=subscription_ids).delete()
    return deleted


def do_record_attempts(sent_ids: Collection[int], failed_ids: Collection[int]) -> None:
    """What the push services answered: a delivery resets the failures in a row and
    stamps ``last_success_at``; a failure counts one more. Two statements at most."""
    if sent_ids:
        ChatPushSubscription.objects.filter(id__in=sent_ids).update(
            last_success_at=timezone.now(), failures=0
        )
    if failed_ids:
        ChatPushSubscription.objects.filter(id__in=failed_ids).update(
            failures=Least(F("failures") + 1, Value(_MAX_FAILURES))
        )
