"""Find someone and open the private conversation with them."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from smartcampus_chat import queries, services
from smartcampus_chat.web.views.common import chat_page, page_context


@chat_page("GET")
def people_search(request: HttpRequest) -> HttpResponse:
    search = queries.clean_search(request.GET.get("q"))
    return render(
        request,
        "smartcampus_chat/people.html",
        page_context(search=search, people=queries.search_people(request.user, search)),
    )


@chat_page("POST")
def private_open(request: HttpRequest, user_id: int) -> HttpResponse:
    room, _created = services.check_open_private(request.user, user_id)
    return redirect(room)
