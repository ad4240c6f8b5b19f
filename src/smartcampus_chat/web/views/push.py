"""The service worker of Web Push (``static/smartcampus_chat/js/sw.js``), served at the
chat's URL prefix: a service worker controls the pages under the folder it is served
from, so ``<prefix>service-worker.js`` covers every chat page and nothing of the host's
(the static files' URL would cover nothing but static files)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

SCRIPT = Path(__file__).resolve().parents[2] / "static" / "smartcampus_chat" / "js" / "sw.js"


@lru_cache(maxsize=1)
def _script() -> bytes:
    return SCRIPT.read_bytes()


@require_safe
def service_worker(request: HttpRequest) -> HttpResponse:
    """The script, public (browsers fetch it to check for updates). ``no-cache``: a new
    release reaches browsers at their next check rather than after a cache lifetime. It
    loads nothing, so its own CSP allows nothing."""
    response = HttpResponse(_script(), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'"
    return response
