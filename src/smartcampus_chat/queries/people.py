"""Users of the host's user model that the chat shows: people to open a conversation with.

Whom a user finds is the policy's ``directory_scope`` (``DIRECTORY_SCOPE``: people who
share a room with them by default); what a search looks in never includes the login
identifier unless it may be shown (``EXPOSE_USERNAME``) or is not an e-mail address.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from smartcampus_chat.domain.names import login_is_email, username_is_public
from smartcampus_chat.domain.policies import get_policy
from smartcampus_chat.models import ChatParticipant

PEOPLE_LIMIT = 20
#: Name fields a people search looks in, those the host's user model has.
NAME_FIELDS = ("first_name", "last_name", "full_name", "preferred_name", "display_name", "name")


def _field_names(user_model: Any) -> set[str]:
    return {field.name for field in user_model._meta.get_fields()}


def directory(user: Any) -> QuerySet[Any]:
    """The active users ``user`` may find (one query when evaluated), by name then pk."""
    user_model = get_user_model()
    people = user_model._default_manager.all()
    if "is_active" in _field_names(user_model):
        people = people.filter(is_active=True)
    scope = get_policy().directory_scope(user)
    if scope == "nobody":
        people = people.none()
    elif scope == "shared":
        my_rooms = ChatParticipant.objects.filter(user=user, is_banned=False).values("room_id")
        sharing = ChatParticipant.objects.filter(room_id__in=my_rooms, is_banned=False)
        people = people.filter(pk__in=sharing.values("user_id"))
    return people.order_by(*_ordering(user_model))


def _ordering(user_model: Any) -> list[str]:
    names = _field_names(user_model)
    return [*(f for f in NAME_FIELDS if f in names), "pk"]


def search_people(
    user: Any, search: str, *, limit: int = PEOPLE_LIMIT, offset: int = 0
) -> list[Any]:
    """People of :func:`directory` other than ``user`` whose name (or, when it may be
    shown, login identifier) contains ``search`` (``limit`` of them from ``offset``).

    An empty search finds nobody: the page never lists the whole directory at once.
    """
    if not search:
        return []
    fields = people_search_fields()
    if not fields:
        return []
    match = Q()
    for field in fields:
        match |= Q(**{f"{field}__icontains": search})
    people = directory(user).filter(match).exclude(pk=user.pk)
    return list(people[offset : offset + limit])


def active_users(user: Any) -> QuerySet[Any]:
    """The API's user list for ``user``: :func:`directory` (it pages and searches it)."""
    return directory(user)


def people_search_fields() -> list[str]:
    """The user fields a people search looks in: the name fields the host's user model has
    (:data:`NAME_FIELDS`), and the login identifier when it may be shown or is not an
    e-mail address."""
    user_model = get_user_model()
    names = _field_names(user_model)
    fields = [f for f in NAME_FIELDS if f in names]
    if username_is_public() or not login_is_email():
        fields.insert(0, user_model.USERNAME_FIELD)
    return fields
