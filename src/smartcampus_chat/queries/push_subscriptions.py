"""Web Push subscriptions: the site's push configuration and the browsers of the people a
batch of notifications is for."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from smartcampus_chat.conf import app_settings
from smartcampus_chat.domain.push import site_push_enabled
from smartcampus_chat.models import ChatPushSubscription


@dataclass(frozen=True)
class PushConfig:
    """What a browser needs to subscribe: whether the site sends push, and the VAPID
    public key (the ``applicationServerKey``; None when push is off)."""

    enabled: bool
    public_key: str | None


def push_config() -> PushConfig:
    """The site's push configuration; no query."""
    enabled = site_push_enabled()
    return PushConfig(
        enabled=enabled,
        public_key=app_settings.WEB_PUSH_VAPID_PUBLIC_KEY if enabled else None,
    )


def subscriptions_of(user_ids: Iterable[int]) -> dict[int, list[ChatPushSubscription]]:
    """The push subscriptions of each of ``user_ids`` (oldest first; a person with none
    is absent): one query whatever the number of people."""
    found: dict[int, list[ChatPushSubscription]] = {}
    ids = set(user_ids)
    if not ids:
        return found
    for subscription in ChatPushSubscription.objects.filter(user_id__in=ids).order_by("id"):
        found.setdefault(subscription.user_id, []).append(subscription)
    return found
