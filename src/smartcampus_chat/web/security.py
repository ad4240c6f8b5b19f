"""Security headers of the chat pages: a nonce-based CSP, nosniff, no framing, a referrer policy.

Applied to every HTML view of the app with :func:`security_headers` (the REST API and the
host's own pages are not touched). Each response gets the headers it does not already
have, so a header set by the host (its own middleware, ``django-csp``) wins over the app's.

The nonce is ``request.csp_nonce`` when the host's CSP machinery already made one
(Django 6.0's ``ContentSecurityPolicyMiddleware``, ``django-csp``), otherwise one made here
and stored there, so templates that add inline ``<script>`` or ``<style>`` use
``nonce="{{ request.csp_nonce }}"`` whatever the Django version. The app's own templates
have no inline script or style.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse

from smartcampus_chat.conf import app_settings

View = Callable[..., HttpResponse]


def request_nonce(request: HttpRequest) -> str:
    """The request's CSP nonce: the host's when it has one, else a fresh one."""
    nonce = getattr(request, "csp_nonce", None)
    if nonce is None:
        nonce = secrets.token_urlsafe(18)
        request.csp_nonce = nonce  # type: ignore[attr-defined]
    return str(nonce)


def header_values(nonce: str) -> dict[str, str]:
    """The headers the settings ask for (a setting of None leaves its header out)."""
    headers: dict[str, str] = {"X-Content-Type-Options": "nosniff"}
    policy = app_settings.CONTENT_SECURITY_POLICY
    if policy:
        headers["Content-Security-Policy"] = policy.replace("{nonce}", nonce)
    referrer_policy = app_settings.REFERRER_POLICY
    if referrer_policy:
        headers["Referrer-Policy"] = referrer_policy
    frame_options = app_settings.FRAME_OPTIONS
    if frame_options:
        headers["X-Frame-Options"] = frame_options
    return headers


def security_headers(view: View) -> View:
    """Add the chat's security headers to the responses of ``view``."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not app_settings.SECURITY_HEADERS:
            return view(request, *args, **kwargs)
        nonce = request_nonce(request)
        response = view(request, *args, **kwargs)
        for name, value in header_values(nonce).items():
            if name not in response:
                response[name] = value
        return response

    return wrapper
