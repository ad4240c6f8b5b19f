"""The download links of data exports (docs/data-export.md): signed, expiring, one person's.

A token is the export's id and its requester's id, signed with the site's ``SECRET_KEY``
under a salt of its own (no other signed value of the site can stand for it) and
time-stamped: :func:`read_export_token` refuses it after ``max_age`` seconds. The view
also checks that the signed-in person is the one named, and the export's own expiry
and state: the link alone gives nothing to someone else.
"""

from __future__ import annotations

from datetime import timedelta
from typing import NamedTuple, TypeGuard

from django.core import signing

_SALT = "smartcampus_chat.export"


class ExportLink(NamedTuple):
    export_id: int
    user_id: int


def export_token(export_id: int, user_id: int) -> str:
    """The token of the download link of export ``export_id`` for ``user_id`` (URL-safe)."""
    return signing.dumps({"e": export_id, "u": user_id}, salt=_SALT, compress=False)


def read_export_token(token: str, max_age: float) -> ExportLink | None:
    """What ``token`` names, or None when this site did not sign it or it is too old."""
    try:
        value = signing.loads(token, salt=_SALT, max_age=timedelta(seconds=max_age))
    except (signing.BadSignature, ValueError, UnicodeError):
        return None
    if not isinstance(value, dict):
        return None
    export_id, user_id = value.get("e"), value.get("u")
    if not (_is_id(export_id) and _is_id(user_id)):
        return None
    return ExportLink(export_id, user_id)


def _is_id(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1
