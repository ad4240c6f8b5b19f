"""Message search, the page that works without JavaScript: ``search/?q=`` (and ``room``,
``order``, ``cursor``), the results with their snippets, each a link to the message."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from smartcampus_chat import services
from smartcampus_chat.exceptions import BadQuery, QueryTooLong
from smartcampus_chat.web.views.common import chat_page, page_context


@chat_page("GET")
def message_search(request: HttpRequest) -> HttpResponse:
    """The results of ``?q=`` (none asked: the empty form). A search that cannot run is
    the form again with why (400); a hidden room is the 404 page."""
    q = request.GET.get("q", "")
    room = request.GET.get("room") or None
    order = request.GET.get("order") or "relevance"
    context = page_context(q=q, room_slug=room or "", order=order, page=None, error=None)
    status = 200
    if "q" in request.GET:
        try:
            context["page"] = services.check_search(
                request.user, q, room=room, order=order, cursor=request.GET.get("cursor")
            )
        except (BadQuery, QueryTooLong) as exc:
            context["error"] = exc
            status = 400
    return render(request, "smartcampus_chat/message_search.html", context, status=status)
