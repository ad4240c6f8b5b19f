"""Unread counts across a user's rooms (the read markers are moved by services.reads)."""

from __future__ import annotations

from typing import Any

from smartcampus_chat.queries.rooms import my_rooms


def unread_summary(user: Any) -> dict[str, Any]:
    """``{"total": n, "rooms": [{"room": slug, "unread": n, "last_read_seq": seq}]}``
    over the user's rooms with unread messages (one query)."""
    rows: Any = my_rooms(user).filter(unread__gt=0)  # type: ignore[misc]
    rooms = [
        {"room": slug, "unread": unread, "last_read_seq": marker or 0}
        for slug, unread, marker in rows.values_list("slug", "unread", "my_last_read_seq")
    ]
    return {"total": sum(row["unread"] for row in rooms), "rooms": rooms}
