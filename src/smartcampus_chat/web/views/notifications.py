"""The notification centre without JavaScript (``notifications/``: the list, mark one or
all read) and a room's notification setting (``room/<slug>/notifications/``: its level and
mute). The live client does the same through the REST API (docs/notifications.md)."""

from __future__ import annotations

from django.contrib import messages as flash
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from smartcampus_chat import queries, services
from smartcampus_chat.exceptions import ValidationFailed
from smartcampus_chat.web.forms import NotificationsReadForm, RoomNotificationsForm
from smartcampus_chat.web.views.common import chat_page, page_context, parse_seq, view_context


@chat_page("GET")
def notifications(request: HttpRequest) -> HttpResponse:
    """The newest notifications first, ``?before=<id>`` for older ones."""
    before = parse_seq(request.GET.get("before"), "before")
    page = queries.notifications_of(request.user, before=before)
    return render(request, "smartcampus_chat/notifications.html", view_context(page))


@chat_page("POST")
def notifications_read(request: HttpRequest) -> HttpResponse:
    """Mark notifications read (``id``, repeated, or ``all``), then go to ``next`` (the
    message, for "Open") or back to the list."""
    form = NotificationsReadForm(request.POST)
    if not form.is_valid():
        raise ValidationFailed(_("Not a notification."))
    services.check_mark_notifications_read(
        request.user, form.cleaned_data["ids"], everything=form.cleaned_data["all"]
    )
    target = form.cleaned_data["next"]
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect("smartcampus_chat:notifications")


@chat_page("GET", "POST")
def room_notifications(request: HttpRequest, slug: str) -> HttpResponse:
    """A member's notifications of room ``slug``: all messages, mentions and replies, or
    nothing; muted for a while or until unmuted. Posted from the room header's menu
    (``return=room``: back to the room) or from this page."""
    room, access = services.get_room_for(request.user, slug)
    held = services.room_notifications(request.user, room, access)
    form = RoomNotificationsForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        level, muted_until = form.setting(held.level, held.muted_until)
        try:
            services.check_set_room_notifications(
                request.user, room, access, level=level, muted_until=muted_until
            )
        except ValidationFailed as exc:
            form.add_service_error(exc)
        else:
            flash.success(request, _("Notification setting saved."))
            if request.POST.get("return") == "room":
                return redirect(room)
            return redirect("smartcampus_chat:room_notifications", slug=room.slug)
    return render(
        request,
        "smartcampus_chat/room_notifications.html",
        page_context(room=room, notify=held, form=form),
        status=400 if form.errors else 200,
    )
