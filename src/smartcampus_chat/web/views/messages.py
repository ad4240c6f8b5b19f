"""Edit and delete a message without JavaScript (``chat.js`` does the same over WebSocket)."""

from __future__ import annotations

from django.contrib import messages as flash
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from smartcampus_chat import queries, services
from smartcampus_chat.exceptions import ValidationFailed
from smartcampus_chat.models import ChatMessage
from smartcampus_chat.protocol.render import visible_content
from smartcampus_chat.web.forms import MessageEditForm
from smartcampus_chat.web.views.common import chat_page, page_context


def _message_url(message: ChatMessage) -> str:
    return f"{message.room.get_absolute_url()}#message-{message.pk}"


@chat_page("GET", "POST")
def message_edit(request: HttpRequest, slug: str, message_id: int) -> HttpResponse:
    message, access = queries.message_in_room(request.user, slug, message_id)
    # Before any form: a message its user cannot edit (a deleted one, someone else's) is
    # neither shown in the form nor saved, whatever the method and the data.
    services.check_can_edit(request.user, message, access)
    data = request.POST if request.method == "POST" else None
    form = MessageEditForm(data, initial={"content": visible_content(message)})
    if form.is_bound and form.is_valid():
        try:
            services.check_edit_message(request.user, message, form.cleaned_data["content"], access)
        except ValidationFailed as exc:
            form.add_service_error(exc)
        else:
            flash.success(request, _("Message edited."))
            return redirect(_message_url(message))
    return render(
        request,
        "smartcampus_chat/message_edit.html",
        page_context(room=message.room, message=message, form=form),
        status=400 if form.errors else 200,
    )


@chat_page("POST")
def message_delete(request: HttpRequest, slug: str, message_id: int) -> HttpResponse:
    message, access = queries.message_in_room(request.user, slug, message_id)
    services.check_delete_message(request.user, message, access)
    flash.success(request, _("Message deleted."))
    return redirect(_message_url(message))
