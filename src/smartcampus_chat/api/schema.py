"""How the API's operations are described in its OpenAPI 3 schema (drf-spectacular).

Every operation documents the common error responses (:class:`ChatAutoSchema`), all with
the body of :class:`~.serializers.ErrorSerializer`. The schema document itself, its
settings and the pages that show it are in :mod:`smartcampus_chat.api.docs`.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.openapi import AutoSchema

from smartcampus_chat.api.serializers.errors import ErrorSerializer

ERROR_DESCRIPTIONS = {
    "400": _("Invalid input (code invalid or parse_error); see fields."),
    "401": _("Not authenticated (token authentication only; session clients get 403)."),
    "403": _("Not authenticated, CSRF failure, or not allowed (code forbidden)."),
    "404": _("No such object, or one the user may not see (code not_found)."),
    "409": _(
        "The room is archived and read-only (code room_archived); push notifications "
        "are off on this site (code push_unavailable); the message was reported by you "
        "already (code already_reported)."
    ),
    "413": _(
        "The file is too large, or over the daily upload quota (code file_too_large, "
        "upload_quota_exceeded)."
    ),
    "415": _(
        "The body is not JSON (code unsupported_media_type); for an upload, a file "
        "of a type not accepted (code unsupported_file_type)."
    ),
    "422": _(
        "The file cannot be read as what it is, or was refused by the virus scan "
        "(codes invalid_image, image_too_large, infected_file); the word filter refused "
        "the message (code blocked_content) or held it for review (code held_for_review)."
    ),
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
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for status in self._error_statuses():
            if status not in responses:
                response = self._get_response_for_code(ErrorSerializer, status)  # type: ignore[no-untyped-call]
                response["description"] = str(ERROR_DESCRIPTIONS[status])
                responses[status] = response
        return responses
