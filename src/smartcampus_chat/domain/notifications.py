"""Notification rules. Stand-in of the core's module until it lands on main: only what
the push channel calls."""

from __future__ import annotations

from django.conf import settings

from smartcampus_chat.models import ChatPreferences


def language_of(prefs: ChatPreferences) -> str:
    """The language of a person's e-mails and push texts."""
    return prefs.language or settings.LANGUAGE_CODE
