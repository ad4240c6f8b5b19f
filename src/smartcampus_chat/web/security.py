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
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponseBase

from smartcampus_chat.conf import app_settings
from smartcampus_chat.infra.headers import add_security_headers, header_values, request_nonce

__all__ = ["add_security_headers", "header_values", "request_nonce", "security_headers"]

View = Callable[..., HttpResponseBase]


def security_headers(view: View) -> View:
    """Add the chat's security headers to the responses of ``view``."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not app_settings.SECURITY_HEADERS:
            return view(request, *args, **kwargs)
        nonce = request_nonce(request)
        return add_security_headers(view(request, *args, **kwargs), nonce)

    return wrapper
