"""The API's DRF classes, read from ``SMARTCAMPUS_CHAT`` instead of ``REST_FRAMEWORK``.

A reusable app must not depend on the host's global DRF defaults (a host may use JWT and
``AllowAny`` elsewhere); every API view asks these functions instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any, Literal

from django.apps import apps
from django.utils.module_loading import import_string

from smartcampus_chat.conf import app_settings

SESSION_AUTHENTICATION = "rest_framework.authentication.SessionAuthentication"
TOKEN_AUTHENTICATION = "rest_framework.authentication.TokenAuthentication"


@lru_cache(maxsize=32)
def _import_all(paths: tuple[str, ...]) -> tuple[Any, ...]:
    return tuple(import_string(path) for path in paths)


def authentication_paths() -> tuple[str, ...]:
    """Configured authentication classes; by default token (if installed), then session.

    Token first: a request without credentials then gets 401 with ``WWW-Authenticate: Token``
    rather than the 403 that session authentication alone produces.
    """
    paths = app_settings.API_AUTHENTICATION_CLASSES
    if paths is not None:
        return tuple(paths)
    if apps.is_installed("rest_framework.authtoken"):
        return (TOKEN_AUTHENTICATION, SESSION_AUTHENTICATION)
    return (SESSION_AUTHENTICATION,)


def authentication_classes() -> tuple[Any, ...]:
    return _import_all(authentication_paths())


ClassList = Literal[
    "API_PERMISSION_CLASSES", "API_THROTTLE_CLASSES", "API_SCHEMA_PERMISSION_CLASSES"
]


def classes(setting: ClassList) -> tuple[Any, ...]:
    """The classes named by the list setting ``setting`` (e.g. ``API_PERMISSION_CLASSES``)."""
    paths: Sequence[str] = getattr(app_settings, setting)
    return _import_all(tuple(paths))
