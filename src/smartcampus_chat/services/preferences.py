"""A person's chat preferences (``ChatPreferences``): read receipts for now; the
notifications add theirs."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from smartcampus_chat import queries
from smartcampus_chat.domain.policies import is_active_user
from smartcampus_chat.exceptions import PermissionDenied, ValidationFailed
from smartcampus_chat.models import ChatPreferences

#: The preferences a person may change, each a boolean.
_FLAGS = ("read_receipts",)


#: ``user``'s preferences: a read, :func:`smartcampus_chat.queries.preferences_of`, named
#: here beside the service that changes them.
get_preferences = queries.preferences_of


def check_set_preferences(user: Any, **changes: Any) -> ChatPreferences:
    if not is_active_user(user):
        raise PermissionDenied()
    unknown = set(changes) - set(_FLAGS)
    if unknown:
        raise ValidationFailed(fields={key: [_("Unknown preference.")] for key in unknown})
    for key, value in changes.items():
        if not isinstance(value, bool):
            raise ValidationFailed(fields={key: [_("Must be true or false.")]})
    return do_set_preferences(user, **changes)


def do_set_preferences(user: Any, **changes: bool) -> ChatPreferences:
    preferences, _created = ChatPreferences.objects.update_or_create(user=user, defaults=changes)
    return preferences
