"""Template tags and filters of the chat, for its own templates and the host's.

``{% load smartcampus_chat_tags %}``, then:

- ``{{ user|chat_display_name }}``: the name the chat shows for a person (the
  ``DISPLAY_NAME`` hook); ``{{ user|chat_username }}``: the login identifier, or "" while
  ``EXPOSE_USERNAME`` is False.
"""

from __future__ import annotations

from typing import Any

from django import template

from smartcampus_chat.domain.names import display_name, public_username

register = template.Library()


@register.filter
def chat_display_name(user: Any) -> str:
    """The display name of ``user`` ("" for no user: a deleted account)."""
    return display_name(user) if user is not None else ""


@register.filter
def chat_username(user: Any) -> str:
    """``user``'s login identifier when the host lets the chat show it, else ""."""
    return (public_username(user) or "") if user is not None else ""
