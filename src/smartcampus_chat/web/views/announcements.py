"""Announcements without JavaScript: "I have read this" (``chat.js`` sends
``announcement.ack`` instead), and the moderators' CSV of who has and has not acknowledged
(docs/announcements.md)."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib import messages as flash
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from smartcampus_chat import queries, services
from smartcampus_chat.identity import display_name
from smartcampus_chat.queries import AckStatus
from smartcampus_chat.web.audit_export import csv_response, safe_cell
from smartcampus_chat.web.views.common import chat_page

COLUMNS = ["name", "user_id", "acknowledged", "acknowledged_at"]


@chat_page("POST")
def announcement_ack(request: HttpRequest, slug: str, message_id: int) -> HttpResponse:
    message, access = queries.message_in_room(request.user, slug, message_id)
    services.check_acknowledge(request.user, message, access)
    flash.success(request, _("Thank you: the announcement is acknowledged."))
    return redirect(f"{message.room.get_absolute_url()}#message-{message.pk}")


def ack_rows(status: AckStatus) -> Iterable[list[str]]:
    """The CSV's rows: who acknowledged (and when), then who has not, each by name; every
    cell made safe for a spreadsheet (a name may start with "=")."""
    yield COLUMNS
    for row in status.acknowledged:
        when = row.acked_at.isoformat() if row.acked_at else ""
        yield [safe_cell(v) for v in (display_name(row.user), row.user.pk, "yes", when)]
    for row in status.pending:
        yield [safe_cell(v) for v in (display_name(row.user), row.user.pk, "no", "")]


@chat_page("GET")
def announcement_acks_csv(request: HttpRequest, slug: str, message_id: int) -> HttpResponse:
    message, _access = queries.acks_message(request.user, slug, message_id)
    filename = f"announcement-{message.pk}-acknowledgements.csv"
    return csv_response(ack_rows(queries.ack_status(message)), filename)
