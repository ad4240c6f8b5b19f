"""What every API view shares: :class:`ChatAPIView`, the schema decorator, path parameters.

The feature modules (``rooms``, ``messages``, ``reads``, ``members``, ``people``,
``tickets``, ``docs``) build on this one; it imports nothing of theirs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import filters
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import BaseParser, JSONParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.schemas.inspectors import ViewInspector
from rest_framework.views import APIView

from smartcampus_chat.api import config
from smartcampus_chat.api.exceptions import exception_handler
from smartcampus_chat.api.schema import ChatAutoSchema
from smartcampus_chat.api.serializers.fields import MAX_INTEGER
from smartcampus_chat.domain.validation import parse_int
from smartcampus_chat.exceptions import NotFound

SLUG = OpenApiParameter("slug", str, OpenApiParameter.PATH, description="Room slug.")
ROOM_SLUG = OpenApiParameter("room_slug", str, OpenApiParameter.PATH, description="Room slug.")
MESSAGE_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="Message id.")
USER_ID = OpenApiParameter("user_id", int, OpenApiParameter.PATH, description="User id.")


def document(**kwargs: Any) -> Any:
    """``extend_schema`` for a view method, based on :class:`ChatAutoSchema`.

    ``extend_schema`` on a method extends the schema class it finds on the function, else the
    host's ``DEFAULT_SCHEMA_CLASS`` (DRF's own AutoSchema unless the host configured
    drf-spectacular), which cannot render this API. Naming the class here makes the schema
    independent of the host's REST_FRAMEWORK settings.
    """

    def decorator(method: Any) -> Any:
        # Stacked (one per HTTP method of an action): extend the schema class the previous
        # one made, which extend_schema keeps in the action's kwargs (it reads a ``schema``
        # attribute first, so that one must go).
        if "schema" in getattr(method, "kwargs", {}):
            method.__dict__.pop("schema", None)
        else:
            method.schema = ChatAutoSchema
        return extend_schema(**kwargs)(method)

    return decorator


class SearchFilter(filters.SearchFilter):
    """``?search=``, whatever the host's ``REST_FRAMEWORK["SEARCH_PARAM"]``."""

    search_param = "search"


class ChatAPIView(APIView):
    """What every API view shares: JSON only, the app's settings, one error shape.

    The authentication, permission and throttle classes come from ``SMARTCAMPUS_CHAT`` (read
    per request), never from the host's ``REST_FRAMEWORK`` defaults.
    """

    renderer_classes: Sequence[type[BaseRenderer]] = [JSONRenderer]
    parser_classes: Sequence[type[BaseParser]] = [JSONParser]
    content_negotiation_class = DefaultContentNegotiation
    versioning_class = None
    schema: ViewInspector | None = ChatAutoSchema()
    #: Error statuses beyond the common ones, per action, for the schema.
    error_statuses: dict[str, tuple[str, ...]] = {}

    def get_authenticators(self) -> list[Any]:
        return [cls() for cls in config.authentication_classes()]

    def get_permissions(self) -> list[Any]:
        return [cls() for cls in config.classes("API_PERMISSION_CLASSES")]

    def get_throttles(self) -> list[Any]:
        return [cls() for cls in config.classes("API_THROTTLE_CLASSES")]

    def get_exception_handler(self) -> Any:
        return exception_handler


def json_object(request: Request) -> dict[str, Any]:
    """The request's body when it is a JSON object, else an empty one (the services say
    what is missing)."""
    data = request.data
    return data if isinstance(data, dict) else {}


def optional_body(request: Request) -> dict[str, Any]:
    """The JSON object a request may carry where a body is optional (a DELETE's
    ``{"reason"}``): nothing when it sends no JSON, so that a bare DELETE is answered on
    its path (404 for a bad id) rather than on its media type."""
    if not (request.content_type or "").startswith("application/json"):
        return {}
    return json_object(request)


def path_id(value: str) -> int:
    """A primary key from the URL; anything else is a missing object."""
    number = parse_int(value, maximum=MAX_INTEGER)
    if number is None:
        raise NotFound()
    return number


class NotFoundView(ChatAPIView):
    """Every other URL under ``api/``: the API's JSON 404 rather than the site's HTML page."""

    schema = None

    def get_permissions(self) -> list[Any]:
        return []

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        raise NotFound()
