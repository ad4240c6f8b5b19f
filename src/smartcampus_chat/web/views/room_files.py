"""A room's files page (``room/<slug>/files/``): its images and other files, newest first,
server-rendered (docs/frontend.md, "Attachments")."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from smartcampus_chat import queries
from smartcampus_chat.web.views.common import chat_page, parse_seq, view_context


@chat_page("GET")
def room_files(request: HttpRequest, slug: str) -> HttpResponse:
    """``?kind=image`` or ``?kind=file`` shows one kind; ``?before=<id>`` the next page."""
    page = queries.room_files_page(
        request.user,
        slug,
        kind=request.GET.get("kind"),
        before=parse_seq(request.GET.get("before"), "before"),
    )
    return render(request, "smartcampus_chat/room_files.html", view_context(page))
