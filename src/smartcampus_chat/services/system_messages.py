"""Messages the site posts itself ("Assignment 3 is due Friday"): for the host's own code.

A system message has no sender and is shown under the site's name (``SITE_NAME``), set
apart from what people write. It goes through the send pipeline (:mod:`.batch`) like any
message: numbered, stored, delivered live, counted unread, announced by ``message_sent``
(with ``user=None``). Nobody can edit it; the room's moderators can delete it.
"""

from __future__ import annotations

from smartcampus_chat.models import ChatMessage, ChatRoom
from smartcampus_chat.services.batch import do_post_system_message
from smartcampus_chat.services.messages import clean_content


def post_system_message(room: ChatRoom, content: str) -> ChatMessage:
    """Post ``content`` in ``room`` as the site; the stored message.

    ``content`` is checked as any message is (not empty, at most ``MAX_MESSAGE_LENGTH``
    characters, no NUL): ``ValidationFailed`` otherwise. ``RoomArchived`` when the room is
    archived. The caller decides who may post as the site: no policy is asked.
    """
    return do_post_system_message(room, clean_content(content)).message
