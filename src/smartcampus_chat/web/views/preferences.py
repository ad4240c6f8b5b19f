"""The reader's chat preferences page (``ChatPreferences``): privacy and notifications."""

from __future__ import annotations

from django.contrib import messages as flash
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from smartcampus_chat import queries, services
from smartcampus_chat.exceptions import ValidationFailed
from smartcampus_chat.web.forms import PreferencesForm
from smartcampus_chat.web.views.common import chat_page, page_context


@chat_page("GET", "POST")
def preferences(request: HttpRequest) -> HttpResponse:
    held = queries.preferences_of(request.user)
    # An unticked box posts nothing: the form is bound on any POST, even an empty one.
    data = request.POST if request.method == "POST" else None
    form = PreferencesForm(data, initial=PreferencesForm.initial_from(held))
    if request.method == "POST" and form.is_valid():
        try:
            services.check_set_preferences(request.user, **form.changes())
        except ValidationFailed as exc:
            form.add_service_error(exc)
        else:
            flash.success(request, _("Preferences saved."))
            return redirect("smartcampus_chat:preferences")
    return render(
        request,
        "smartcampus_chat/preferences.html",
        page_context(form=form),
        status=400 if form.errors else 200,
    )
