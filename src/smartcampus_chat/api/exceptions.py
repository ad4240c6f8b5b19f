"""One error shape for every API error: ``{"error": {"code", "message", "fields"}}``.

Service errors (:class:`smartcampus_chat.exceptions.ChatError`) keep their code and status;
DRF's own errors (validation, authentication, permission, 404, throttling, parsing) are
reshaped with the codes below, so a client handles one shape whatever raised the error.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from smartcampus_chat.exceptions import ChatError, ServiceUnavailable
from smartcampus_chat.infra.outages import is_unavailable

logger = logging.getLogger(__name__)

#: DRF's default codes renamed to the codes the services and the WebSocket use.
CODES = {
    "permission_denied": "forbidden",
    "throttled": "rate_limited",
}
NON_FIELD_KEY = "non_field_errors"


def error_body(
    code: str,
    message: str,
    fields: Mapping[str, list[str]] | None = None,
    retry_after: float | None = None,
) -> dict:
    """The error body; ``retry_after`` (seconds, as in the ``Retry-After`` header but not
    rounded) only on errors that waiting cures (``rate_limited``, ``unavailable``)."""
    body: dict[str, Any] = {"code": code, "message": message, "fields": dict(fields or {})}
    if retry_after is not None:
        body["retry_after"] = retry_after
    return {"error": body}


def flatten_errors(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested validation errors as ``{"field": [...], "items.0.name": [...]}``."""
    if isinstance(detail, Mapping):
        fields: dict[str, list[str]] = {}
        for key, value in detail.items():
            fields.update(flatten_errors(value, f"{prefix}.{key}" if prefix else str(key)))
        return fields
    if isinstance(detail, list):
        if all(isinstance(item, str) for item in detail):
            return {prefix or NON_FIELD_KEY: [str(item) for item in detail]}
        fields = {}
        for index, item in enumerate(detail):
            fields.update(flatten_errors(item, f"{prefix}.{index}" if prefix else str(index)))
        return fields
    return {prefix or NON_FIELD_KEY: [str(detail)]}


def _describe(exc: exceptions.APIException) -> tuple[str, str, dict[str, list[str]]]:
    if isinstance(exc, exceptions.ValidationError):
        fields = flatten_errors(exc.detail)
        message = str(exceptions.ValidationError.default_detail)
        if list(fields) == [NON_FIELD_KEY]:
            message = fields[NON_FIELD_KEY][0]
        return "invalid", message, fields
    code = str(exc.default_code)
    return CODES.get(code, code), str(exc.detail), {}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF ``EXCEPTION_HANDLER`` of the API views (not the host's global handler)."""
    if not isinstance(exc, ChatError | exceptions.APIException) and is_unavailable(exc):
        view = context.get("view")
        logger.warning("Service unavailable in %s: %r", type(view).__name__, exc)
        exc = ServiceUnavailable()
    if isinstance(exc, ChatError):
        set_rollback()
        headers = {}
        if exc.retry_after is not None:
            headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))
        return Response(
            error_body(exc.code, exc.message, exc.fields, exc.retry_after),
            status=exc.status,
            headers=headers,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None
    # DRF's handler sets the WWW-Authenticate and Retry-After headers and rolls back.
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    # DRF's Throttled keeps the seconds to wait on ``wait`` (absent from the type stubs).
    wait = getattr(exc, "wait", None) if isinstance(exc, exceptions.Throttled) else None
    response.data = error_body(*_describe(exc), retry_after=wait)
    return response
