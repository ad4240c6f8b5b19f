"""What every HTML view shares: page context, and service errors turned into responses."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import fields
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from smartcampus_chat.conf import app_settings
from smartcampus_chat.domain.validation import clean_int
from smartcampus_chat.exceptions import ChatError, NotFound
from smartcampus_chat.web.security import View, security_headers


def page_context(**values: Any) -> dict[str, Any]:
    # ``site_name``: the app's own base template ends the tab title with it ("General ·
    # SmartCampus"); a host's base template names its site itself.
    return {
        "base_template": app_settings.BASE_TEMPLATE,
        "site_name": _(app_settings.SITE_NAME),
        **values,
    }


def view_context(view: Any, **values: Any) -> dict[str, Any]:
    """The context of a page from its view model (a dataclass from
    :mod:`smartcampus_chat.queries`): each field a template variable, plus ``values``."""
    model = {field.name: getattr(view, field.name) for field in fields(view)}
    return page_context(**model, **values)


def chat_errors(view: View) -> View:
    """Answer a service error the HTML way: ``smartcampus_chat/error.html`` in the chat's
    layout, with the error's status (404 hidden or missing, 403 not allowed, 409 archived,
    400 invalid input outside a form, 429 rate limit), translated, with a way back.

    A 404 says only what the user may know: the same words for a missing room and a hidden
    one, unless they were in it (:func:`smartcampus_chat.queries.rooms.lost_access_reason`).
    """

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return view(request, *args, **kwargs)
        except ChatError as exc:
            return error_response(request, exc)

    return wrapper


def error_response(request: HttpRequest, exc: ChatError) -> HttpResponse:
    """The chat's error page for ``exc`` (its status, and ``Retry-After`` when waiting helps)."""
    message = exc.message
    if isinstance(exc, NotFound) and message == str(NotFound.default_message):
        message = _("This page does not exist, or you do not have access to it.")
    response = render(
        request,
        "smartcampus_chat/error.html",
        page_context(error=exc, message=message),
        status=exc.status,
    )
    if exc.retry_after is not None:
        response.headers["Retry-After"] = retry_after_header(exc)
    return response


def retry_after_header(exc: ChatError) -> str:
    """``Retry-After`` of a rate-limited or unavailable answer: whole seconds, at least 1."""
    return str(max(1, math.ceil(exc.retry_after or 1)))


def chat_page(*methods: str) -> Callable[[View], View]:
    """What every chat page is: security headers, signed in only, ``methods`` only, and
    service errors answered the HTML way (:func:`chat_errors`)."""

    def decorate(view: View) -> View:
        return security_headers(login_required(require_http_methods(methods)(chat_errors(view))))

    return decorate


def parse_seq(value: str | None, name: str) -> int | None:
    """A message number from query parameter ``name``: None when absent; malformed
    (not plain ASCII digits, out of range) is a ``ValidationFailed`` (400 page)."""
    if value is None:
        return None
    return clean_int(value, name)
