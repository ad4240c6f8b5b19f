"""OpenAPI 3 schema of the API (drf-spectacular), independent of the host's settings.

The schema view patches drf-spectacular's settings with :data:`SCHEMA_SETTINGS` while it
renders, and :func:`only_chat_endpoints` keeps the app's own operations: a host's other DRF
endpoints are not described here. Every operation documents the common error responses
(:class:`ChatAutoSchema`), all with the body of :class:`~.serializers.ErrorSerializer`.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.openapi import AutoSchema

from smartcampus_chat import __version__

ERROR_DESCRIPTIONS = {
    "400": _("Invalid input (code invalid or parse_error); see fields."),
    "401": _("Not authenticated (token authentication only; session clients get 403)."),
    "403": _("Not authenticated, CSRF failure, or not allowed (code forbidden)."),
    "404": _("No such object, or one the user may not see (code not_found)."),
    "409": _("The room is archived and read-only (code room_archived)."),
    "415": _("The body is not JSON (code unsupported_media_type)."),
    "429": _("Too many requests (code rate_limited); see the Retry-After header."),
}


class ChatAutoSchema(AutoSchema):
    """Adds the error responses every operation can give to each operation.

    Statuses particular to some operations (409 for writes in a room) come from the view's
    ``error_statuses`` (``{action: ("409",)}``).
    """

    def _error_statuses(self) -> list[str]:
        statuses = ["400", "401", "403", "429"]
        if "{" in self.path:
            statuses.append("404")
        if self.method in ("POST", "PUT", "PATCH"):
            statuses.append("415")
        extra = getattr(self.view, "error_statuses", {})
        action = getattr(self.view, "action", None) or self.method.lower()
        statuses.extend(extra.get(action, ()))
        return sorted(set(statuses))

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        from smartcampus_chat.api.serializers import ErrorSerializer

        responses: dict[str, Any] = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for status in self._error_statuses():
            if status not in responses:
                response = self._get_response_for_code(ErrorSerializer, status)  # type: ignore[no-untyped-call]
                response["description"] = str(ERROR_DESCRIPTIONS[status])
                responses[status] = response
        return responses


def only_chat_endpoints(endpoints: list[Any], **kwargs: Any) -> list[Any]:
    """drf-spectacular preprocessing hook: keep the chat API's operations only."""
    from smartcampus_chat.api.views import ChatAPIView

    return [
        endpoint
        for endpoint in endpoints
        if isinstance(getattr(endpoint[3], "cls", None), type)
        and issubclass(endpoint[3].cls, ChatAPIView)
    ]


SCHEMA_SETTINGS: dict[str, Any] = {
    "TITLE": "smartcampus-chat API",
    "VERSION": __version__,
    "DESCRIPTION": (
        "REST API of the campus chat. Every error answers "
        '`{"error": {"code", "message", "fields"}}`; see docs/api.md.'
    ),
    "PREPROCESSING_HOOKS": ["smartcampus_chat.api.schema.only_chat_endpoints"],
    # Separate request and response components: read-only fields are not request fields.
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_ADD_EXPLICIT_BLANK_NULL_CHOICE": False,
    "SCHEMA_PATH_PREFIX": r"/.*/api/",
}
