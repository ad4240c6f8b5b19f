"""The bridge to the host site's course model (``COURSE_MODEL`` and its resolvers)."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.exceptions import ObjectDoesNotExist
from django.db import models

from smartcampus_chat.conf import ChatSettings, app_settings
from smartcampus_chat.models import ChatRoom


def get_course_model() -> type[models.Model] | None:
    name = app_settings.COURSE_MODEL
    return None if name is None else apps.get_model(name)


def get_course(key: str) -> models.Model | None:
    model = get_course_model()
    if model is None:
        return None
    try:
        return model._default_manager.get(pk=key)
    except (ObjectDoesNotExist, ValueError):
        return None


def room_course(room: ChatRoom) -> models.Model | None:
    """The host's course object of a course room (None when unset or missing)."""
    return get_course(room.course_key) if room.course_key else None


def course_key(course: models.Model) -> str:
    return str(course.pk)


def course_role(user: Any, course: models.Model | None) -> str | None:
    """What the host says ``user`` is in ``course``: "member", "moderator" or None."""
    resolver = app_settings.load(ChatSettings.COURSE_ROLE_RESOLVER)
    if resolver is None or course is None:
        return None
    role = resolver(user, course)
    return str(role) if role else None


def course_roles_for_user(user: Any) -> dict[str, str]:
    """{course key: role} for every course of ``user``; used to list course rooms."""
    bulk = app_settings.load(ChatSettings.COURSE_ROLES_FOR_USER)
    if bulk is not None:
        return {str(key): str(role) for key, role in bulk(user).items() if role}
    model = get_course_model()
    if model is None:
        return {}
    keys = ChatRoom.objects.filter(room_type="course").values_list("course_key", flat=True)
    courses = model._default_manager.filter(pk__in=list(keys))
    roles = {course_key(course): course_role(user, course) for course in courses}
    return {key: role for key, role in roles.items() if role}
