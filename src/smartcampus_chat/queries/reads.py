"""Unread counts across a user's rooms (the read markers are moved by services.reads)."""

from __future__ import annotations

from typing import Any

from smartcampus_chat.queries.rooms import my_rooms


def unread_summary(user: Any) -> dict[str, Any]:
    """``{"total": n, "mentions": n, "rooms": [{"room": slug, "unread": n, "mentions": n,
    "last_read_seq": seq}]}`` over the user's rooms with unread messages (one query)."""
    rows: Any = my_rooms(user).filter(unread__gt=0)  # type: ignore[misc]
    fields = ("slug", "unread", "mentions", "my_last_read_seq")
    rooms = [
        {"room": slug, "unread": unread, "mentions": mentions, "last_read_seq": marker or 0}
        for slug, unread, mentions, marker in rows.values_list(*fields)
    ]
    return {
        "total": sum(row["unread"] for row in rooms),
        "mentions": sum(row["mentions"] for row in rooms),
        "rooms": rooms,
    }
