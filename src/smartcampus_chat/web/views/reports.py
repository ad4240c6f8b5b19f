"""Reports without JavaScript: a member's report form (``room/<slug>/message/<id>/report/``)
and a room's moderation queue (``room/<slug>/moderation/``), each action a POST form.
The room page's menu and "Moderation" panel do the same over REST (js/chat/reports.js)."""

from __future__ import annotations

from django.contrib import messages as flash
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from smartcampus_chat import queries, services
from smartcampus_chat.exceptions import ValidationFailed
from smartcampus_chat.models import ReportOutcome
from smartcampus_chat.web.forms import ReportForm, ResolveForm
from smartcampus_chat.web.views.common import chat_page, page_context


@chat_page("GET", "POST")
def message_report(request: HttpRequest, slug: str, message_id: int) -> HttpResponse:
    message, access = queries.message_in_room(request.user, slug, message_id)
    form = ReportForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            services.check_report_message(
                request.user,
                message,
                access,
                form.cleaned_data["category"],
                form.cleaned_data["note"],
            )
        except ValidationFailed as exc:
            form.add_service_error(exc)
        else:
            flash.success(request, _("Thank you: the room's moderators will look at it."))
            return redirect(f"{message.room.get_absolute_url()}#message-{message.pk}")
    return render(
        request,
        "smartcampus_chat/message_report.html",
        page_context(room=message.room, message=message, form=form),
        status=400 if form.errors else 200,
    )


_DONE = {
    ReportOutcome.DISMISSED: gettext_lazy("The report is dismissed."),
    ReportOutcome.MESSAGE_DELETED: gettext_lazy("The message is deleted."),
    ReportOutcome.AUTHOR_MUTED: gettext_lazy("The author is muted."),
    ReportOutcome.AUTHOR_BANNED: gettext_lazy("The author is banned from the room."),
    ReportOutcome.APPROVED: gettext_lazy("The message is approved and posted."),
    ReportOutcome.REJECTED: gettext_lazy("The message is rejected."),
}


@chat_page("GET", "POST")
def room_moderation(request: HttpRequest, slug: str) -> HttpResponse:
    """The queue; a POST acts on one item and comes back here."""
    room, access = queries.review_room(request.user, slug)
    if request.method == "POST":
        back = reverse("smartcampus_chat:room_moderation", kwargs={"slug": room.slug})
        form = ResolveForm(request.POST)
        if not form.is_valid():
            flash.error(request, _("The form was not understood; nothing was changed."))
            return redirect(back)
        data = form.cleaned_data
        report = queries.open_report(room, data["report"])
        try:
            outcome = services.check_resolve_report(
                request.user,
                room,
                report,
                data["action"],
                duration=data["duration"],
                reason=data["reason"],
            )
        except ValidationFailed as exc:
            details = [text for texts in exc.fields.values() for text in texts]
            flash.error(request, " ".join([exc.message, *details]))
            return redirect(back)
        flash.success(request, str(_DONE[outcome]))
        return redirect(back)
    items = queries.report_queue(room, access)
    return render(
        request,
        "smartcampus_chat/room_moderation.html",
        page_context(room=room, items=items, form=ResolveForm()),
    )
