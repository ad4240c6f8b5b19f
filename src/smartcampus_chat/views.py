"""HTML pages. Thin: parse the request, call a service or a query, render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from smartcampus_chat import queries, services
from smartcampus_chat.conf import app_settings
from smartcampus_chat.exceptions import ChatError, NotFound
from smartcampus_chat.forms import MessageForm, RoomCreateForm
from smartcampus_chat.models import ChatRoom


def _context(**values: Any) -> dict[str, Any]:
    return {"base_template": app_settings.BASE_TEMPLATE, **values}


def _room_or_404(user: Any, slug: str) -> tuple[ChatRoom, Any]:
    try:
        return services.get_room_for(user, slug)
    except NotFound as exc:
        raise Http404(exc.message) from exc


@login_required
def room_list(request: HttpRequest) -> HttpResponse:
    rooms = list(queries.my_rooms(request.user))
    last = queries.last_messages(rooms)
    for room in rooms:
        room.last_message = last.get(room.pk)  # type: ignore[attr-defined]
    joinable = list(queries.joinable_rooms(request.user))
    return render(
        request,
        "smartcampus_chat/room_list.html",
        _context(rooms=rooms, joinable_rooms=joinable),
    )


@login_required
@require_http_methods(["GET", "POST"])
def room_detail(request: HttpRequest, slug: str) -> HttpResponse:
    room, access = _room_or_404(request.user, slug)
    form = MessageForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.check_send_message(
                request.user,
                room,
                form.cleaned_data["content"],
                client_id=form.cleaned_data["client_id"] or None,
                access=access,
            )
        except ChatError as exc:
            form.add_error("content", exc.fields.get("content", [exc.message])[0])
        else:
            return redirect(room)
    before = request.GET.get("before")
    page = queries.history(room, before=int(before) if before and before.isdigit() else None)
    if page.messages:
        services.do_mark_read(request.user, room, page.messages[-1].seq)
    return render(
        request,
        "smartcampus_chat/room_detail.html",
        _context(
            room=room,
            access=access,
            page=page,
            form=form,
            participants=list(queries.participants(room)),
        ),
    )


@login_required
@require_http_methods(["POST"])
def room_join(request: HttpRequest, slug: str) -> HttpResponse:
    room, _access = _room_or_404(request.user, slug)
    try:
        services.check_join_room(request.user, room)
    except ChatError as exc:
        flash.error(request, exc.message)
    return redirect(room)


@login_required
@require_http_methods(["GET", "POST"])
def room_create(request: HttpRequest) -> HttpResponse:
    form = RoomCreateForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            room = services.check_create_room(
                request.user,
                name=data["name"],
                room_type=data["room_type"],
                description=data["description"],
                group=data.get("group"),
                course=data.get("course"),
            )
        except ChatError as exc:
            for field, errors in exc.fields.items() or [(None, [exc.message])]:
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            flash.success(request, _("Room created."))
            return redirect(room)
    return render(
        request,
        "smartcampus_chat/room_create.html",
        _context(form=form),
        status=400 if form.errors else 200,
    )
