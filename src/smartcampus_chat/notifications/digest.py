"""One person's e-mail digest: what it lists, and the message (plain text + HTML).

Everything is read from the claimed rows (:class:`~.channels.Pending`: the notification
with its message, room, actor and person already loaded): building a digest runs no query.
It is rendered in the person's language and dated in their time zone.

What a digest shows of a message: the notification's excerpt (its first 140 characters of
plain text, as in the notification centre), except in a private conversation when the
person has not chosen to see private content in notifications (``push_private_content``,
:func:`~smartcampus_chat.domain.notifications.shows_content`, the rule of Web Push too): an
e-mail sits on mail servers the site does not control, and a conversation between two
people is the one place a person expects nobody else to read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from smartcampus_chat.conf import app_settings
from smartcampus_chat.domain.anonymity import ANONYMOUS_NAME
from smartcampus_chat.domain.names import room_title
from smartcampus_chat.domain.notifications import language_of, shows_content, zone_of
from smartcampus_chat.domain.unsubscribe import unsubscribe_token
from smartcampus_chat.identity import display_name
from smartcampus_chat.models import ChatNotification, ChatPreferences, NotificationKind
from smartcampus_chat.notifications.channels import Pending
from smartcampus_chat.protocol.render import notification_data

_TEMPLATES = "smartcampus_chat/email/"


@dataclass(frozen=True)
class DigestItem:
    """One notification as the digest lists it."""

    headline: str  # "Bob mentioned you"
    when: str  # in the person's time zone and language
    excerpt: str  # "" when hidden, deleted, or a message of files only
    hidden: bool  # private content kept out of the e-mail
    deleted: bool  # the message was deleted meanwhile
    url: str  # absolute: the message in its room


@dataclass
class DigestRoom:
    title: str
    url: str
    items: list[DigestItem] = field(default_factory=list)


class DigestMessage(EmailMultiAlternatives):
    """An e-mail whose header lines are folded at RFC 5322's 998 characters, not 78.

    ``List-Unsubscribe`` holds one long URL with no space to fold at. Python's default
    e-mail policy (Django 6.0 and later) would write it as RFC 2047 encoded words, which
    mail clients do not decode in that header (their unsubscribe button would get a broken
    URL); the ``compat32`` policy (Django 5.2) would move it to a continuation line. The
    body's encoding is chosen before, with the usual 78.
    """

    def message(self, *args: Any, **kwargs: Any) -> Any:
        built = super().message(*args, **kwargs)
        built.policy = built.policy.clone(max_line_length=998)
        return built


class NoSiteAddress(RuntimeError):
    """``NOTIFY_SITE_URL`` is not set: an e-mail's links need the site's address."""


def site_url(path: str) -> str:
    """``path`` (from ``reverse``) as an absolute URL on ``NOTIFY_SITE_URL``."""
    base = app_settings.NOTIFY_SITE_URL
    if not base:
        raise NoSiteAddress("NOTIFY_SITE_URL is not set: e-mails need the site's address")
    return base.rstrip("/") + path


def unsubscribe_url(user_id: int) -> str:
    """The one-click link that turns ``user_id``'s e-mail digests off."""
    token = unsubscribe_token(user_id, "email_digests")
    return site_url(reverse("smartcampus_chat:unsubscribe", args=[token]))


def email_address(user: Any) -> str:
    """``user``'s e-mail address ("" when they have none)."""
    return str(getattr(user, user.get_email_field_name(), "") or "").strip()


def build_digest(rows: Sequence[Pending]) -> DigestMessage:
    """The e-mail listing ``rows``, all of one person (at least one row)."""
    preferences = rows[0].preferences
    user = rows[0].delivery.notification.user
    with translation.override(language_of(preferences)):
        context = _context(user, preferences, [row.delivery.notification for row in rows])
        subject = " ".join(render_to_string(_TEMPLATES + "digest_subject.txt", context).split())
        text = render_to_string(_TEMPLATES + "digest.txt", context)
        html = render_to_string(_TEMPLATES + "digest.html", context)
    message = DigestMessage(
        subject=subject,
        body=text,
        from_email=app_settings.NOTIFY_EMAIL_FROM or settings.DEFAULT_FROM_EMAIL,
        to=[email_address(user)],
        headers={
            # RFC 2369 and RFC 8058: the mail client's own "unsubscribe" button, one click.
            "List-Unsubscribe": f"<{context['unsubscribe_url']}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            # RFC 3834: no out-of-office or other automatic answers to this.
            "Auto-Submitted": "auto-generated",
            "X-Auto-Response-Suppress": "All",
        },
    )
    message.attach_alternative(html, "text/html")
    return message


def _context(
    user: Any, preferences: ChatPreferences, notifications: list[ChatNotification]
) -> dict[str, Any]:
    zone = zone_of(preferences)
    people = {n.actor.pk: n.actor for n in notifications if n.actor is not None}
    rooms: dict[int, DigestRoom] = {}
    for notification in sorted(notifications, key=lambda n: (n.created_at, n.pk)):
        room = notification.room
        if room.pk not in rooms:
            title = room_title(room, user, people)
            rooms[room.pk] = DigestRoom(title, site_url(room.get_absolute_url()))
        rooms[room.pk].items.append(_item(notification, preferences, zone))
    site_name = _(app_settings.SITE_NAME)
    return {
        "count": len(notifications),
        "site_name": site_name,
        "name": display_name(user),
        "rooms": list(rooms.values()),
        "chat_url": site_url(reverse("smartcampus_chat:room_list")),
        "preferences_url": site_url(reverse("smartcampus_chat:preferences")),
        "unsubscribe_url": unsubscribe_url(user.pk),
    }


def _item(notification: ChatNotification, preferences: ChatPreferences, zone: tzinfo) -> DigestItem:
    data = notification_data(notification, room_name=notification.room.name)
    hidden = not shows_content(preferences, notification.room.room_type)
    when: datetime = timezone.localtime(notification.created_at, zone)
    return DigestItem(
        headline=_headline(notification),
        when=f"{formats.date_format(when, 'DATETIME_FORMAT')} ({when.tzname()})",
        excerpt="" if hidden else data.excerpt,
        hidden=hidden,
        deleted=notification.message.is_deleted,
        url=site_url(data.url),
    )


def _headline(notification: ChatNotification) -> str:
    actor = notification.actor
    if notification.message.anonymous:
        name = str(ANONYMOUS_NAME)
    else:
        name = display_name(actor) if actor is not None else _("Former member")
    kind = notification.kind
    if kind == NotificationKind.ANNOUNCEMENT:
        return _("%(name)s asks you to acknowledge an announcement") % {"name": name}
    if kind == NotificationKind.MENTION:
        return _("%(name)s mentioned you") % {"name": name}
    if kind == NotificationKind.REPLY:
        return _("%(name)s replied to you") % {"name": name}
    if kind == NotificationKind.PRIVATE:
        return _("%(name)s sent you a message") % {"name": name}
    return _("%(name)s wrote") % {"name": name}
