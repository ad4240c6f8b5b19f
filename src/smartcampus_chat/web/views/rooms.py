"""Room pages: the list, the conversation, join, create and the moderators' settings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages as flash
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from smartcampus_chat import queries, services
from smartcampus_chat.domain.names import display_name
from smartcampus_chat.exceptions import (
    AnnouncementNotAllowed,
    AnonymousNotAllowed,
    ChatError,
    CourseEnded,
    FileRefused,
    Muted,
    RateLimited,
    RoomLocked,
    SlowMode,
    ValidationFailed,
)
from smartcampus_chat.web.forms import (
    DURATION_CHOICES,
    MessageForm,
    RoomCreateForm,
    RoomSettingsForm,
    SanctionForm,
)
from smartcampus_chat.web.page_config import PANE_PARAM, client_config, pane_config
from smartcampus_chat.web.timeline import timeline
from smartcampus_chat.web.views.common import (
    chat_page,
    page_context,
    parse_seq,
    retry_after_header,
    view_context,
)


def wants_pane(request: HttpRequest) -> bool:
    """``?pane=1``: the shell's main pane alone (the client swaps it in), not the page."""
    return request.method == "GET" and request.GET.get(PANE_PARAM) == "1"


def _shell(request: HttpRequest, template: str, pane: str, context: dict[str, Any]) -> HttpResponse:
    """The full shell page, or only its main pane: the same include either way."""
    return render(request, pane if wants_pane(request) else template, context)


@chat_page("GET")
def room_list(request: HttpRequest, browse: bool = False) -> HttpResponse:
    """The shell without an open room: the sidebar and, in the main pane, "pick a room"
    with the rooms one may join. ``browse`` (``…/browse/``) shows that pane on a phone,
    where ``/chat/`` is the sidebar alone."""
    search = queries.clean_search(request.GET.get("q"))
    page = queries.room_list_page(request.user, search, with_sidebar=not wants_pane(request))
    context = view_context(
        page,
        browse=browse,
        chat_config=client_config(request.user),
        pane_config=pane_config(request.user),
    )
    return _shell(
        request,
        "smartcampus_chat/room_list.html",
        "smartcampus_chat/includes/pick_room.html",
        context,
    )


@chat_page("GET", "POST")
def room_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """The conversation. Showing it changes nothing (the read marker included: the live
    client marks what it shows, a no-JS reader the "mark as read" form, :func:`room_read`);
    a POST sends the form's message."""
    user = request.user
    permalink = parse_seq(request.GET.get("message"), "message")
    if permalink is not None and request.method != "POST":
        # A message's link (docs/frontend.md): the page that shows it, scrolled to it.
        anchor = queries.message_anchor(user, slug, permalink)
        url = reverse("smartcampus_chat:room", args=[slug])
        return redirect(f"{url}?after={anchor}#message-{permalink}")
    before = parse_seq(request.GET.get("before"), "before")
    after = parse_seq(request.GET.get("after"), "after")
    form = MessageForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        room, access = services.get_room_for(user, slug)
        if form.is_valid():
            try:
                services.check_send_with_files(
                    user,
                    room,
                    access,
                    form.cleaned_data["content"],
                    form.cleaned_data["files"],
                    client_id=form.cleaned_data["client_id"] or None,
                    announcement=form.cleaned_data["announcement"],
                    requires_ack=form.cleaned_data["requires_ack"],
                    ack_due=form.cleaned_data["ack_due"],
                    anonymous=form.cleaned_data["anonymous"],
                )
            except FileRefused as exc:
                form.add_error(None, exc.message)
            except ValidationFailed as exc:
                form.add_service_error(exc)
            except (
                Muted,
                RoomLocked,
                SlowMode,
                CourseEnded,
                AnnouncementNotAllowed,
                AnonymousNotAllowed,
            ) as exc:
                # Shown with the form (its text kept), the page saying why above it.
                form.add_error(None, exc.message)
                status = exc.status
            else:
                return redirect(room)
        status = status if status != 200 else 400
    page = queries.room_page(
        user, slug, before=before, after=after, with_sidebar=not wants_pane(request)
    )
    services.note_private_read(user, page.room, page.access)
    # The open room's part of the configuration, in the page's and again in the pane's.
    room_config: dict[str, Any] = {
        "joined": page.joined,
        "receipts": page.receipts,
        "must_acknowledge": page.must_acknowledge,
        "sees_acks": page.acks is not None,
        "anonymous": page.can_post_anonymously,
        "can_reveal": page.can_reveal,
        "can_create_poll": page.can_create_poll,
        "can_vote": page.can_vote,
    }
    context = view_context(
        page,
        form=form,
        chat_config=client_config(user, page.room, page.access, **room_config),
        pane_config=pane_config(user, page.room, page.access, **room_config),
        timeline=timeline(
            page.rows,
            user_id=user.pk,
            last_read_seq=page.last_read_seq,
            has_before=page.page.has_before,
        ),
    )
    response = _shell(
        request,
        "smartcampus_chat/room_detail.html",
        "smartcampus_chat/includes/conversation.html",
        context,
    )
    response.status_code = status
    return response


@chat_page("POST")
def room_read(request: HttpRequest, slug: str) -> HttpResponse:
    """Mark the room read up to ``seq`` (the no-JS page's form), then show the room again."""
    room, access = services.get_room_for(request.user, slug)
    services.check_mark_read(request.user, room, parse_seq(request.POST.get("seq"), "seq"), access)
    return redirect(room)


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
    form = RoomCreateForm(request.POST or None, choices=queries.room_create_choices(request.user))
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
    # A field left out (None: a form of an older page) changes nothing.
    return {
        key: value
        for key, value in form.cleaned_data.items()
        if value is not None and getattr(room, key) != value
    }


@chat_page("GET", "POST")
def room_settings(request: HttpRequest, slug: str) -> HttpResponse:
    user = request.user
    page = queries.room_settings_page(user, slug)
    room = page.room
    initial = {
        "name": room.name,
        "description": room.description,
        "is_archived": room.is_archived,
        "read_receipts": room.read_receipts,
        "is_locked": room.is_locked,
        "qa_mode": room.qa_mode,
        "members_can_create_polls": room.members_can_create_polls,
        "slow_mode_seconds": room.slow_mode_seconds,
        "word_filter": room.word_filter,
        "allow_anonymous": room.allow_anonymous,
    }
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
    return render(
        request,
        "smartcampus_chat/room_settings.html",
        view_context(
            page,
            form=form,
            sanction_actions=[("mute", _("Mute")), ("ban", _("Ban"))],
            duration_choices=DURATION_CHOICES,
        ),
        status=400 if form.errors else 200,
    )


#: What each action of the member moderation form calls (the service checks everything).
_SANCTIONS: dict[str, Callable[[Any, Any, int, dict[str, Any]], Any]] = {
    "mute": lambda user, room, target, data: services.check_mute_member(
        user, room, target, duration=data["duration"], reason=data["reason"]
    ),
    "unmute": lambda user, room, target, data: services.check_unmute_member(user, room, target),
    "ban": lambda user, room, target, data: services.check_ban_member(
        user, room, target, duration=data["duration"], reason=data["reason"]
    ),
    "lift_ban": lambda user, room, target, data: services.check_lift_ban(user, room, target),
    "role": lambda user, room, target, data: services.check_set_role(
        user, room, target, data["role"]
    ),
}
_DONE = {
    "mute": gettext_lazy("%(user)s is muted."),
    "unmute": gettext_lazy("%(user)s is no longer muted."),
    "ban": gettext_lazy("%(user)s is banned from the room."),
    "lift_ban": gettext_lazy("The ban of %(user)s is lifted."),
    "role": gettext_lazy("The role of %(user)s is changed."),
}


@chat_page("POST")
def member_moderate(request: HttpRequest, slug: str, user_id: int) -> HttpResponse:
    """A moderator's action on a member, from the room settings page (no JavaScript)."""
    room, _access = services.get_room_for(request.user, slug)
    form = SanctionForm(request.POST)
    back = reverse("smartcampus_chat:room_settings", kwargs={"slug": room.slug})
    if not form.is_valid():
        flash.error(request, _("The form was not understood; nothing was changed."))
        return redirect(back)
    action = form.cleaned_data["action"]
    try:
        participant = _SANCTIONS[action](request.user, room, user_id, form.cleaned_data)
    except ValidationFailed as exc:
        details = [text for texts in exc.fields.values() for text in texts]
        flash.error(request, " ".join([exc.message, *details]))
        return redirect(back)
    flash.success(request, _DONE[action] % {"user": display_name(participant.user)})
    return redirect(back)


@chat_page("POST")
def member_remove(request: HttpRequest, slug: str, user_id: int) -> HttpResponse:
    room, _access = services.get_room_for(request.user, slug)
    participant = services.check_remove_member(
        request.user, room, user_id, reason=request.POST.get("reason", "")
    )
    flash.success(
        request,
        _("%(user)s was removed from the room.") % {"user": display_name(participant.user)},
    )
    return redirect(reverse("smartcampus_chat:room_settings", kwargs={"slug": room.slug}))
