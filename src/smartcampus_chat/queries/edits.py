"""A message's edit history, for the room's moderators: each earlier text, oldest first."""

from __future__ import annotations

from smartcampus_chat.domain.policies import RoomAccess, get_policy
from smartcampus_chat.exceptions import PermissionDenied
from smartcampus_chat.models import ChatMessage, ChatMessageEdit


def edit_history(message: ChatMessage, access: RoomAccess) -> list[ChatMessageEdit]:
    """The texts ``message`` had before each edit (one query); PermissionDenied for anyone
    but those the policy lets see it. A deleted message's history is withheld as its
    text is: nobody reads it in the chat."""
    if not get_policy().can_see_edit_history(access):
        raise PermissionDenied()
    if message.is_deleted:
        return []
    return list(ChatMessageEdit.objects.filter(message=message).order_by("pk"))
