"""Template tags and filters of the chat, for its own templates and the host's.

``{% load smartcampus_chat_tags %}``, then:

- ``{{ user|chat_display_name }}``: the name the chat shows for a person (the
  ``DISPLAY_NAME`` hook); ``{{ user|chat_username }}``: the login identifier, or "" while
  ``EXPOSE_USERNAME`` is False.
- ``{{ message|chat_author }}``: the name a message is shown under (the site's name for a
  system message); ``{{ message.content_html|chat_message_html }}``: its formatted text.
- ``{% chat_unread_badge %}``: a link to the chat with the unread count, for the host's
  navbar; ``{% chat_notifications_bell %}``: a bell linking to the chat's notifications
  with their unread count, for the same navbar; ``{% chat_room_for_course course %}``: a
  "Course chat" link for a course page.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext

from smartcampus_chat import queries
from smartcampus_chat.conf import app_settings
from smartcampus_chat.domain import terms
from smartcampus_chat.domain.file_labels import FileType, file_size, file_type
from smartcampus_chat.domain.names import author_name, display_name, public_username
from smartcampus_chat.domain.sanctions import is_indefinite
from smartcampus_chat.markup import stored_html
from smartcampus_chat.protocol.payloads import LinkPreviewData
from smartcampus_chat.protocol.render import link_preview_data

register = template.Library()


@register.filter
def chat_display_name(user: Any) -> str:
    """The display name of ``user`` ("" for no user: a deleted account)."""
    return display_name(user) if user is not None else ""


@register.filter
def chat_author(message: Any) -> str:
    """The name ``message`` is shown under (:func:`~smartcampus_chat.domain.names.author_name`)."""
    return author_name(message)


@register.filter
def chat_message_html(html: str | None) -> str:
    """A message's HTML as rendered when it was written (sanitised then: see
    :func:`~smartcampus_chat.markup.stored_html`); "" for none."""
    return stored_html(html)


@register.filter
def chat_link_preview(message: Any) -> LinkPreviewData | None:
    """The card of ``message``'s first link, as frames carry it (None: no card)."""
    return None if message is None else link_preview_data(message)


@register.simple_tag
def chat_maths_enabled() -> bool:
    """Whether messages render TeX maths (the ``MATHS`` setting): the formatting help's row."""
    return app_settings.MATHS


@register.simple_tag
def chat_attachments_enabled() -> bool:
    """Whether the composer offers attachments (the ``ATTACHMENTS`` setting)."""
    return bool(app_settings.ATTACHMENTS)


@register.filter
def chat_file_size(size: int) -> str:
    """An attachment's size as people read it (:func:`~.file_labels.file_size`)."""
    return file_size(size)


@register.filter
def chat_file_type(content_type: str) -> FileType:
    """An attachment's icon and type label (:func:`~.file_labels.file_type`)."""
    return file_type(content_type)


@register.simple_tag
def chat_sanction_until(until: datetime | None) -> str:
    """When a mute or ban ends, in words: "until <date>", or "until lifted"."""
    if until is None or is_indefinite(until):
        return gettext("until lifted")
    when = date_format(localtime(until), "DATETIME_FORMAT")
    return gettext("until %(when)s") % {"when": when}


@register.simple_tag
def chat_course_ended_notice(ends_at: datetime | None) -> str:
    """The read-only banner of a room whose course ended (docs/terms.md), with its last day."""
    if ends_at is None:
        return ""
    day = date_format(terms.last_day(ends_at), "DATE_FORMAT")
    return gettext("This course ended on %(date)s; the room is read-only.") % {"date": day}


@register.filter
def chat_username(user: Any) -> str:
    """``user``'s login identifier when the host lets the chat show it, else ""."""
    return (public_username(user) or "") if user is not None else ""


@register.inclusion_tag("smartcampus_chat/includes/unread_badge.html", takes_context=True)
def chat_unread_badge(context: template.Context) -> dict[str, Any]:
    """The host navbar's link to the chat with the user's unread count (one query).

    ``{% chat_unread_badge %}``; nothing for anonymous visitors.
    """
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"show": False}
    return {"show": True, "total": queries.unread_summary(user)["total"]}


@register.inclusion_tag("smartcampus_chat/includes/notifications_nav.html", takes_context=True)
def chat_notifications_bell(context: template.Context) -> dict[str, Any]:
    """The host navbar's bell: a link to the chat's notifications page with the user's
    unread notifications (of the rooms the user may still see: three queries).

    ``{% chat_notifications_bell %}``; nothing for anonymous visitors, nor when the site
    turned notifications off (``NOTIFICATIONS``).
    """
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not app_settings.NOTIFICATIONS:
        return {"show": False}
    return {"show": True, "unread": queries.unread_notification_count(user)}


@register.inclusion_tag("smartcampus_chat/includes/course_room_link.html", takes_context=True)
def chat_room_for_course(context: template.Context, course: Any) -> dict[str, Any]:
    """A "Course chat" link on the host's course page: the course's room if the user may
    see it, else nothing. ``{% chat_room_for_course course %}``. A page view changes
    nothing: rooms come from the roster hook or ``manage.py chat_sync_courses``."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or course is None:
        return {"room": None}
    return {"room": queries.visible_room_for_course(user, course)}
