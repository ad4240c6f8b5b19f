"""Find someone and open the private conversation with them."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from smartcampus_chat import queries, services
from smartcampus_chat.domain.validation import clean_int
from smartcampus_chat.web.views.common import chat_page, view_context

#: The highest ``?page=`` of a people search (its offset stays far from integer limits).
MAX_PEOPLE_PAGE = 100_000


@chat_page("GET")
def people_search(request: HttpRequest) -> HttpResponse:
    """Find people, a page at a time: ``?q=`` and ``?page=`` (from 1; malformed is a 400)."""
    search = queries.clean_search(request.GET.get("q"))
    number = request.GET.get("page")
    page = 1 if number is None else clean_int(number, "page", minimum=1, maximum=MAX_PEOPLE_PAGE)
    return render(
        request,
        "smartcampus_chat/people.html",
        view_context(queries.people_page(request.user, search, page)),
    )


@chat_page("POST")
def private_open(request: HttpRequest, user_id: int) -> HttpResponse:
    room, _created = services.check_open_private(request.user, user_id)
    return redirect(room)
