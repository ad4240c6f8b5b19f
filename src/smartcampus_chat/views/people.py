"""Find someone and open the private conversation with them."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from smartcampus_chat import queries, services
from smartcampus_chat.security import security_headers
from smartcampus_chat.views.common import chat_errors, page_context


@security_headers
@login_required
@require_http_methods(["GET"])
def people_search(request: HttpRequest) -> HttpResponse:
    search = queries.clean_search(request.GET.get("q"))
    return render(
        request,
        "smartcampus_chat/people.html",
        page_context(search=search, people=queries.search_people(request.user, search)),
    )


@security_headers
@login_required
@require_POST
@chat_errors
def private_open(request: HttpRequest, user_id: int) -> HttpResponse:
    room, _created = services.check_open_private(request.user, user_id)
    return redirect(room)
