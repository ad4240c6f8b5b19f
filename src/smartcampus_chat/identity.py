"""How the chat names a person: the display-name hook and the login identifier's privacy.

Import these from :mod:`smartcampus_chat.domain.names` (the public place); they live in
this bottom-layer module so that every layer, the protocol's renderers included, calls the
same function (docs/architecture.md: ``protocol`` may not import ``domain``).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.utils.translation import gettext

from smartcampus_chat.conf import ChatSettings, app_settings


def login_is_email() -> bool:
    """Whether the user model's login identifier (``USERNAME_FIELD``) is an e-mail address."""
    user_model = get_user_model()
    field_name = user_model.USERNAME_FIELD
    if field_name == getattr(user_model, "EMAIL_FIELD", "email"):
        return True
    field = user_model._meta.get_field(field_name)
    internal_type = getattr(field, "get_internal_type", lambda: "")()
    return internal_type == "EmailField" or "email" in field_name.lower()


def username_is_public() -> bool:
    """Whether the login identifier may be shown and searched (``EXPOSE_USERNAME``)."""
    return app_settings.EXPOSE_USERNAME


def public_username(user: Any) -> str | None:
    """``user``'s login identifier when the host lets the chat show it, else None."""
    return str(user.get_username()) if username_is_public() else None


def anonymous_name(user: Any) -> str:
    """The name of someone whose only name is private: "User 42" (the primary key)."""
    return gettext("User %(id)s") % {"id": user.pk}


def full_name_or_username(user: Any) -> str:
    """The default ``DISPLAY_NAME``: the full name; else the username, unless it is an
    e-mail address (or any login identifier while ``EXPOSE_USERNAME`` is False and the
    login is an e-mail), which is never a fallback; else :func:`anonymous_name`."""
    full_name = user.get_full_name().strip() if hasattr(user, "get_full_name") else ""
    if full_name:
        return str(full_name)
    username = str(user.get_username())
    if username_is_public() or not (login_is_email() or "@" in username):
        return username
    return anonymous_name(user)


def display_name(user: Any) -> str:
    """The name the chat shows for ``user``, from the host's ``DISPLAY_NAME`` callable.

    An empty answer falls back to :func:`anonymous_name`: a person is never shown blank.
    """
    name = str(app_settings.load(ChatSettings.DISPLAY_NAME)(user) or "").strip()
    return name or anonymous_name(user)
