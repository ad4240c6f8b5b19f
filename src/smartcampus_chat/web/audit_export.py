"""The audit log as CSV (the admin's export action): one row per entry, oldest first.

Cells that a spreadsheet would read as a formula (``=``, ``+``, ``-``, ``@``...) are
prefixed with an apostrophe: a reason typed by a moderator must not run in the reader's
spreadsheet (CSV injection).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable

from django.http import HttpResponse

from smartcampus_chat.models import ChatAuditEntry

COLUMNS = [
    "when",
    "action",
    "by",
    "by_id",
    "room",
    "room_id",
    "concerning",
    "concerning_id",
    "message_id",
    "reason",
    "details",
]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def audit_rows(entries: Iterable[ChatAuditEntry]) -> Iterable[list[str]]:
    yield COLUMNS
    for entry in entries:
        yield [
            safe_cell(value)
            for value in (
                entry.created_at.isoformat(),
                entry.action,
                entry.actor_label,
                entry.actor_id,
                entry.room_label,
                entry.room_id,
                entry.target_label,
                entry.target_user_id,
                entry.message_id,
                entry.reason,
                json.dumps(entry.details, sort_keys=True) if entry.details else "",
            )
        ]


def csv_response(rows: Iterable[list[str]], filename: str) -> HttpResponse:
    """``rows`` (cells made safe already: :func:`safe_cell`) as a CSV download."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    for row in rows:
        writer.writerow(row)
    return response


def audit_csv_response(entries: Iterable[ChatAuditEntry]) -> HttpResponse:
    return csv_response(audit_rows(entries), "chat-audit-log.csv")
