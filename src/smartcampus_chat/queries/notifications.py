"""Notification reads. Stand-in of the core's module until it lands on main: only what
the push channel calls."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext

from smartcampus_chat.conf import app_settings
from smartcampus_chat.domain.names import display_name
from smartcampus_chat.markup.text import plain_text
from smartcampus_chat.models import ChatNotification


@dataclass(frozen=True)
class NotificationText:
    title: str
    body: str
    url: str


def notification_texts(notification: ChatNotification, *, with_content: bool) -> NotificationText:
    message = notification.message
    actor = notification.actor
    name = display_name(actor) if actor is not None else gettext("Someone")
    title = f"{name} · {notification.room.name}"
    if with_content and not message.is_deleted:
        body = plain_text(message.content_html)[:140]
    else:
        body = gettext("New message")
    path = reverse("smartcampus_chat:room", kwargs={"slug": notification.room.slug})
    site = (app_settings.NOTIFY_SITE_URL or "").rstrip("/")
    return NotificationText(title=title, body=body, url=f"{site}{path}#message-{message.pk}")
