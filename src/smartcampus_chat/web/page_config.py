"""What the pages hand to the browser client: the ``#scc-config`` JSON (docs/frontend.md)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext

from smartcampus_chat.conf import app_settings
from smartcampus_chat.domain.policies import RoomAccess
from smartcampus_chat.models import ChatRoom

#: WebSocket paths; they mirror ``smartcampus_chat.routing``.
WS_ROOM_PATH = "/ws/chat/{slug}/"
WS_USER_PATH = "/ws/chat/"


def client_strings() -> dict[str, str]:
    """Translated strings the client shows, in the request's language.

    Placeholders use Python's ``%(name)s`` syntax; the client replaces them itself.
    """
    return {
        "sending": gettext("Sending…"),
        "reconnecting": gettext("Connection lost. Reconnecting…"),
        "typing_one": gettext("%(name)s is typing…"),
        "typing_two": gettext("%(name)s and %(other)s are typing…"),
        "typing_many": gettext("%(name)s and %(count)s others are typing…"),
        "message_deleted": gettext("Message deleted"),
        "edited": gettext("(edited)"),
        "edit": gettext("Edit"),
        "delete": gettext("Delete"),
        "save": gettext("Save"),
        "cancel": gettext("Cancel"),
        "confirm_delete": gettext("Delete this message?"),
        "new_message_announcement": gettext("New message from %(name)s"),
        "online": gettext("online"),
        "offline": gettext("offline"),
    }


def client_config(
    user: Any, room: ChatRoom | None = None, access: RoomAccess | None = None
) -> dict[str, Any]:
    """The configuration of a chat page; ``room`` on the conversation page only.

    ``lastSeq``/``lastEventSeq`` are read from ``room`` as it was loaded *before* the
    history: the client resumes from there and may receive a message it already shows,
    which it ignores by id, but never misses one.
    """
    return {
        "wsUrl": WS_ROOM_PATH.format(slug=room.slug) if room else WS_USER_PATH,
        "userId": user.pk,
        "room": room.slug if room else None,
        "lastSeq": room.last_seq if room else 0,
        "lastEventSeq": room.last_event_seq if room else 0,
        # Older pages are fetched from the REST API when the reader scrolls up.
        "historyUrl": (
            reverse("smartcampus_chat:api-message-list", kwargs={"room_slug": room.slug})
            if room
            else None
        ),
        "pageSize": app_settings.PAGE_SIZE,
        # Moderators get a delete button on others' live messages too.
        "canModerate": bool(access is not None and access.can_moderate),
        "i18n": client_strings(),
    }
