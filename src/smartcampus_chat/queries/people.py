"""Users of the host's user model that the chat shows: people to open a conversation with."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

PEOPLE_LIMIT = 20


def _field_names(user_model: Any) -> set[str]:
    return {field.name for field in user_model._meta.get_fields()}


def search_people(
    user: Any, search: str, *, limit: int = PEOPLE_LIMIT, offset: int = 0
) -> list[Any]:
    """Active users other than ``user`` whose username or name contains ``search``
    (``limit`` of them from ``offset``, in a stable order).

    An empty search finds nobody: the page never lists the whole directory at once.
    """
    if not search:
        return []
    user_model = get_user_model()
    username_field = user_model.USERNAME_FIELD
    field_names = _field_names(user_model)
    match = Q(**{f"{username_field}__icontains": search})
    for name_field in ("first_name", "last_name"):
        if name_field in field_names:
            match |= Q(**{f"{name_field}__icontains": search})
    if "is_active" in field_names:
        match &= Q(is_active=True)
    people = user_model._default_manager.filter(match).exclude(pk=user.pk)
    return list(people.order_by(username_field, "pk")[offset : offset + limit])


def active_users() -> QuerySet[Any]:
    """Every active user, by username (the API's user list; it pages and searches them)."""
    user_model = get_user_model()
    return user_model._default_manager.filter(is_active=True).order_by(
        user_model.USERNAME_FIELD, "pk"
    )


def people_search_fields() -> list[str]:
    """The user fields a people search looks in: the username, and the names if the host's
    user model has them."""
    user_model = get_user_model()
    names = _field_names(user_model)
    return [user_model.USERNAME_FIELD, *(f for f in ("first_name", "last_name") if f in names)]
