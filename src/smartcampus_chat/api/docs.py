"""The OpenAPI 3 document of the API and the pages that show it (Swagger UI, Redoc).

The schema view patches drf-spectacular's settings with :data:`SCHEMA_SETTINGS` while it
renders, independent of the host's settings, and :func:`only_chat_endpoints` keeps the
app's own operations: a host's other DRF endpoints are not described here.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.utils.translation import gettext_lazy as _
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.schemas.inspectors import ViewInspector

from smartcampus_chat import __version__
from smartcampus_chat.api import config
from smartcampus_chat.api.base import ChatAPIView
from smartcampus_chat.api.exceptions import exception_handler
from smartcampus_chat.conf import app_settings
from smartcampus_chat.exceptions import NotFound
from smartcampus_chat.infra.headers import add_security_headers, request_nonce


def only_chat_endpoints(endpoints: list[Any], **kwargs: Any) -> list[Any]:
    """drf-spectacular preprocessing hook: keep the chat API's operations only."""
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
    "PREPROCESSING_HOOKS": ["smartcampus_chat.api.docs.only_chat_endpoints"],
    # Separate request and response components: read-only fields are not request fields.
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_ADD_EXPLICIT_BLANK_NULL_CHOICE": False,
    "SCHEMA_PATH_PREFIX": r"/.*/api/",
}


class _DocsMixin:
    """Authentication and permissions of the schema and docs pages, from the app settings.

    The pages are not part of the API they document: ``schema = None`` leaves them out of
    any schema, including the whole-site one drf-spectacular's ``check --deploy`` builds
    with the host's ``DEFAULT_SCHEMA_CLASS`` (DRF's, which it refuses for these views).
    """

    schema: ViewInspector | None = None

    def get_authenticators(self) -> list[Any]:
        return [cls() for cls in config.authentication_classes()]

    def get_permissions(self) -> list[Any]:
        return [cls() for cls in config.classes("API_SCHEMA_PERMISSION_CLASSES")]

    def get_exception_handler(self) -> Any:
        return exception_handler


class SchemaView(_DocsMixin, SpectacularAPIView):
    """The OpenAPI 3 document of the chat API (YAML, or JSON with ``?format=json``)."""

    custom_settings = SCHEMA_SETTINGS


def _require_docs_apps() -> None:
    if not (apps.is_installed("drf_spectacular") and apps.is_installed("drf_spectacular_sidecar")):
        # Reported at start-up by check smartcampus_chat.W030.
        raise NotFound(str(_("The API docs need drf_spectacular and drf_spectacular_sidecar.")))


def _sidecar(path: str) -> str:
    from django.templatetags.static import static

    return static(f"drf_spectacular_sidecar/{path}")


class _DocsPageMixin(_DocsMixin):
    """A page that shows the schema: it needs the sidecar app for its assets, and is served
    with the chat pages' security headers (a nonce'd CSP). Its templates have no inline
    script or style and load nothing from another host (no CDN, no web fonts)."""

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        _require_docs_apps()
        request_nonce(request._request)
        return super().get(request, *args, **kwargs)  # type: ignore[misc]

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        if app_settings.SECURITY_HEADERS and "script" not in request.GET:
            add_security_headers(response, request_nonce(request._request))
        return response


class SwaggerView(_DocsPageMixin, SpectacularSwaggerSplitView):
    """Swagger UI, its assets served from the site's static files (no CDN); its start-up
    script is a separate same-origin request (``?script``), not an inline script."""

    url_name = "smartcampus_chat:api-schema"
    title = "smartcampus-chat API"
    template_name = "smartcampus_chat/api/swagger_ui.html"

    @staticmethod
    def _swagger_ui_resource(filename: str) -> str:
        return _sidecar(f"swagger-ui-dist/{filename}")

    @staticmethod
    def _swagger_ui_favicon() -> str:
        return _sidecar("swagger-ui-dist/favicon-32x32.png")


class RedocView(_DocsPageMixin, SpectacularRedocView):
    """Redoc, its assets served from the site's static files (no CDN)."""

    url_name = "smartcampus_chat:api-schema"
    title = "smartcampus-chat API"
    template_name = "smartcampus_chat/api/redoc.html"

    @staticmethod
    def _redoc_standalone() -> str:
        return _sidecar("redoc/bundles/redoc.standalone.js")
