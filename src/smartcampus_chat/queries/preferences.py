"""A person's chat preferences, as stored or the defaults."""

from __future__ import annotations

from typing import Any

from smartcampus_chat.models import ChatPreferences


def preferences_of(user: Any) -> ChatPreferences:
    """``user``'s preferences (the defaults, unsaved, when they never chose): one query."""
    found = ChatPreferences.objects.filter(user=user).first()
    return found if found is not None else ChatPreferences(user=user)
