"""Room pages: the list, the conversation, join, create and the moderators' settings."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from django.contrib import messages as flash
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from smartcampus_chat import queries, services
from smartcampus_chat.domain import courses
from smartcampus_chat.domain.policies import get_policy
from smartcampus_chat.exceptions import ChatError, RateLimited, ValidationFailed
from smartcampus_chat.models import ChatMessage, ChatParticipant
from smartcampus_chat.protocol.render import visible_content
from smartcampus_chat.web.forms import MessageForm, RoomCreateForm, RoomSettingsForm
from smartcampus_chat.web.page_config import client_config
from smartcampus_chat.web.views.common import (
    chat_page,
    page_context,
    parse_seq,
    retry_after_header,
)


@dataclass(frozen=True)
class MessageRow:
    """A message with what the viewer may do to it, decided once by the policy."""

    message: ChatMessage
    #: What the viewer may read of it (:func:`~smartcampus_chat.protocol.render.visible_content`).
    content: str | None
    can_edit: bool
    can_delete: bool


@dataclass(frozen=True)
class MemberRow:
    participant: ChatParticipant
    can_remove: bool


@chat_page("GET")
def room_list(request: HttpRequest) -> HttpResponse:
    search = queries.clean_search(request.GET.get("q"))
    rooms = list(queries.my_rooms(request.user, search))
    last = queries.last_messages(rooms)
    for room in rooms:
        message = last.get(room.pk)
        room.last_message = message  # type: ignore[attr-defined]
        room.last_preview = None if message is None else visible_content(message)  # type: ignore[attr-defined]
    return render(
        request,
        "smartcampus_chat/room_list.html",
        page_context(
            rooms=rooms,
            joinable_rooms=list(queries.joinable_rooms(request.user, search)),
            search=search,
            chat_config=client_config(request.user),
        ),
    )


@chat_page("GET", "POST")
def room_detail(request: HttpRequest, slug: str) -> HttpResponse:
    user = request.user
    room, access = services.get_room_for(user, slug)
    before = parse_seq(request.GET.get("before"), "before")
    after = parse_seq(request.GET.get("after"), "after")
    if before is not None:
        after = None  # Both given: "before" wins, as the page's own links expect.
    form = MessageForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.check_send_message(
                    user,
                    room,
                    form.cleaned_data["content"],
                    client_id=form.cleaned_data["client_id"] or None,
                    access=access,
                )
            except ValidationFailed as exc:
                form.add_service_error(exc)
            else:
                return redirect(room)
        status = 400
    page = queries.history(room, before=before, after=after)
    participants = list(queries.participants(room))
    joined = any(p.user_id == user.pk for p in participants)
    if joined and page.messages and not page.has_after:
        # Reading the page moves the marker on the side: over the read rate the page
        # still shows, and a later page view or the live client moves it.
        with contextlib.suppress(RateLimited):
            services.check_mark_read(user, room, page.messages[-1].seq, access)
    policy = get_policy()
    rows = [
        MessageRow(
            message,
            content=visible_content(message),
            can_edit=policy.can_edit_message(user, access, message),
            can_delete=policy.can_delete_message(user, access, message),
        )
        for message in page.messages
    ]
    return render(
        request,
        "smartcampus_chat/room_detail.html",
        page_context(
            room=room,
            course=courses.room_course(room),
            access=access,
            page=page,
            rows=rows,
            form=form,
            participants=participants,
            joined=joined,
            can_join=not joined and policy.can_join(access, room),
            can_leave=joined and policy.can_leave(room),
            can_manage=policy.can_manage_room(access, room),
            chat_config=client_config(user, room, access),
        ),
        status=status,
    )


@chat_page("POST")
def room_join(request: HttpRequest, slug: str) -> HttpResponse:
    room, _access = services.get_room_for(request.user, slug)
    services.check_join_room(request.user, room)
    flash.success(request, _("You joined %(room)s.") % {"room": room.name})
    return redirect(room)


@chat_page("POST")
def room_leave(request: HttpRequest, slug: str) -> HttpResponse:
    room, access = services.get_room_for(request.user, slug)
    if services.check_leave_room(request.user, room, access):
        flash.success(request, _("You left %(room)s.") % {"room": room.name})
    return redirect("smartcampus_chat:room_list")


@chat_page("GET", "POST")
def room_create(request: HttpRequest) -> HttpResponse:
    form = RoomCreateForm(request.POST or None, user=request.user)
    limited: RateLimited | None = None
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
            form.add_service_error(exc)
            if isinstance(exc, RateLimited):
                limited = exc
        else:
            flash.success(request, _("Room created."))
            return redirect(room)
    response = render(
        request,
        "smartcampus_chat/room_create.html",
        page_context(form=form),
        status=400 if form.errors else 200,
    )
    if limited is not None:
        response.status_code = limited.status
        response.headers["Retry-After"] = retry_after_header(limited)
    return response


def _settings_changes(form: RoomSettingsForm, room: Any) -> dict[str, Any]:
    return {key: value for key, value in form.cleaned_data.items() if getattr(room, key) != value}


@chat_page("GET", "POST")
def room_settings(request: HttpRequest, slug: str) -> HttpResponse:
    user = request.user
    room, access = services.get_room_for(user, slug)
    policy = get_policy()
    if not policy.can_manage_room(access, room):
        raise DjangoPermissionDenied
    initial = {"name": room.name, "description": room.description, "is_archived": room.is_archived}
    form = RoomSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            changes = _settings_changes(form, room)
            if changes:
                services.check_update_room(user, room, **changes)
        except ValidationFailed as exc:
            form.add_service_error(exc)
        else:
            flash.success(request, _("Room settings saved."))
            return redirect("smartcampus_chat:room_settings", slug=room.slug)
    members = [
        # The row's role stands in for the full access check, which the service repeats.
        MemberRow(p, can_remove=policy.can_remove_user(user, access, room, p.user, p.role))
        for p in queries.participants(room)
    ]
    return render(
        request,
        "smartcampus_chat/room_settings.html",
        page_context(room=room, access=access, form=form, members=members),
        status=400 if form.errors else 200,
    )


@chat_page("POST")
def member_remove(request: HttpRequest, slug: str, user_id: int) -> HttpResponse:
    room, _access = services.get_room_for(request.user, slug)
    participant = services.check_remove_member(request.user, room, user_id)
    flash.success(
        request,
        _("%(user)s was removed from the room.") % {"user": participant.user.get_username()},
    )
    return redirect(reverse("smartcampus_chat:room_settings", kwargs={"slug": room.slug}))
