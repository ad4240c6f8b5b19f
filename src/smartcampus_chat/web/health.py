"""Liveness of this process's real-time delivery, for load balancers and orchestrators.

``GET <chat>/health/`` answers 200 ``{"status": "ok", ...}`` while the fan-out hub of the
process that answers receives from the channel layer, and 503 ``{"status": "unhealthy",
"problems": [...]}`` when it is wedged: its lock held too long, its receive loop gone, or
a probe sent through the layer not back in time (:func:`smartcampus_chat.realtime.hub.health`).

It is public on purpose (probes carry no session) and says nothing about users, rooms or
groups: booleans, durations and counters only. It reads state the hub keeps, with no
database query and no layer call, so it is as cheap as a static page.
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from smartcampus_chat.realtime import hub


@never_cache
@require_safe
async def health(request: HttpRequest) -> JsonResponse:
    report = hub.health()
    healthy = bool(report.pop("healthy"))
    problems = report.pop("problems")
    return JsonResponse(
        {"status": "ok" if healthy else "unhealthy", "problems": problems, "hub": report},
        status=200 if healthy else 503,
    )
