"""What the pages hand to the browser client: the ``#scc-config`` JSON (docs/frontend.md).

This is the one contract between the server and ``static/smartcampus_chat/js/chat*``: every
key the client reads is built here (URLs with ``reverse()``, strings with ``gettext`` in the
request's language, timings from the settings), and the client types none of them itself.
``tests/test_client_js.py`` checks that the keys the JavaScript reads and the keys sent here
are the same sets.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext

from smartcampus_chat.conf import app_settings
from smartcampus_chat.domain.policies import RoomAccess
from smartcampus_chat.models import ChatRoom
from smartcampus_chat.protocol.frames import ws_path
from smartcampus_chat.protocol.render import user_ref

#: Stands for the slug in ``roomUrl``; the client replaces it (a valid slug itself, so the
#: URL reverses whatever prefix the host mounted the app under).
SLUG_PLACEHOLDER = "__slug__"


def client_strings() -> dict[str, str]:
    """Translated strings the client shows, in the request's language.

    Placeholders use Python's ``%(name)s`` syntax; the client replaces them itself.
    ``closed*`` are the banners of the close codes that end the client (docs/protocol.md).
    """
    return {
        "sending": gettext("Sending…"),
        "reconnecting": gettext("Connection lost. Reconnecting…"),
        "typing_one": gettext("%(name)s is typing…"),
        "typing_two": gettext("%(name)s and %(other)s are typing…"),
        "typing_many": gettext("%(name)s and %(count)s others are typing…"),
        "message_deleted": gettext("Message deleted"),
        "deletedUser": gettext("Deleted user"),
        "edited": gettext("(edited)"),
        "edit": gettext("Edit"),
        "editPrompt": gettext("Edit message"),
        "delete": gettext("Delete"),
        "save": gettext("Save"),
        "cancel": gettext("Cancel"),
        "confirm_delete": gettext("Delete this message?"),
        "new_message_announcement": gettext("New message from %(name)s"),
        "online": gettext("online"),
        "offline": gettext("offline"),
        "closedAuth": gettext("You are signed out. Sign in again to keep chatting."),
        "closedForbidden": gettext("You no longer have access to this room."),
        "closedGone": gettext("This room was deleted."),
        "closedVersion": gettext("This page is out of date. Reload it to keep chatting."),
    }


def typing_timings() -> dict[str, int]:
    """When the client refreshes and ends its own "typing" (ms), from ``TYPING_TIMEOUT``.

    The others drop an indicator ``TYPING_TIMEOUT`` seconds after its last "started": the
    client refreshes it well before (60 %), though never faster than ``TYPING_RATE_*``
    allows, and says "stopped" after 80 % of it without a keystroke.
    """
    timeout = float(app_settings.TYPING_TIMEOUT)
    rate = float(app_settings.TYPING_RATE_PER_SECOND)
    refresh = max(timeout * 0.6, 1 / rate if rate > 0 else 0.0)
    return {"typingRefreshMs": round(refresh * 1000), "typingIdleMs": round(timeout * 800)}


def client_config(
    user: Any, room: ChatRoom | None = None, access: RoomAccess | None = None
) -> dict[str, Any]:
    """The configuration of a chat page; ``room`` on the conversation page only.

    ``lastSeq``/``lastEventSeq`` are read from ``room`` as it was loaded *before* the
    history: the client resumes from there and may receive a message it already shows,
    which it ignores by id, but never misses one.
    """
    return {
        "wsUrl": ws_path(room.slug if room else None),
        "userId": user.pk,
        # Shown as the author of a message being sent, as the server names it.
        "userName": user_ref(user).name,
        "room": room.slug if room else None,
        "lastSeq": room.last_seq if room else 0,
        "lastEventSeq": room.last_event_seq if room else 0,
        # Rooms added live to the room list link here (the host's mount point included).
        "roomUrl": reverse("smartcampus_chat:room", kwargs={"slug": SLUG_PLACEHOLDER}),
        # Older pages are fetched from the REST API when the reader scrolls up.
        "historyUrl": (
            reverse("smartcampus_chat:api-message-list", kwargs={"room_slug": room.slug})
            if room
            else None
        ),
        "pageSize": app_settings.PAGE_SIZE,
        # Moderators get a delete button on others' live messages too.
        "canModerate": bool(access is not None and access.can_moderate),
        **typing_timings(),
        "i18n": client_strings(),
    }
