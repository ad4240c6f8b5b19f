"""Anonymous-to-classmates posts (docs/anonymous-posts.md): revealing an author.

Posting one is a ``message.send`` with ``anonymous`` through the one send pipeline
(:mod:`.send_checks`; who may: the policy's ``can_post_anonymously``); how one is shown is
``protocol/render.py``'s. The room's moderators and staff (``can_reveal_author``) may learn
who wrote one through :func:`check_reveal_author`: a reason is required, an audit entry is
written in the same transaction, and the author is answered to the requester only (no
event, no frame to anyone else).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from smartcampus_chat.domain.anonymity import clean_reason
from smartcampus_chat.domain.policies import RoomAccess, get_policy
from smartcampus_chat.exceptions import NotFound, PermissionDenied, ValidationFailed
from smartcampus_chat.infra import ratelimit
from smartcampus_chat.models import AuditAction, ChatMessage
from smartcampus_chat.services import audit


@dataclass(frozen=True)
class Revealed:
    """Who wrote an anonymous message (None: their account is gone)."""

    message: ChatMessage
    author: Any


def check_reveal_author(
    user: Any, message: ChatMessage, access: RoomAccess, reason: Any
) -> Revealed:
    """Reveal the author of ``message`` to ``user``: the room's moderators and staff
    (``forbidden`` otherwise), an anonymous message (``invalid`` otherwise), a reason
    (``invalid`` without one), within the ``reveal`` rate limit."""
    if not access.can_see:
        raise NotFound()
    if not get_policy().can_reveal_author(user, access, message.room):
        raise PermissionDenied()
    if not message.anonymous:
        text = _("This message is not anonymous.")
        raise ValidationFailed(text, fields={"message_id": [text]})
    text = clean_reason(reason)
    ratelimit.check_rate("reveal", user)
    return do_reveal_author(user, message, text)


def do_reveal_author(user: Any, message: ChatMessage, reason: str) -> Revealed:
    """Write the audit entry (actor, message, author, reason) and answer the author."""
    author = message.sender
    with transaction.atomic():
        audit.record(
            user,
            AuditAction.AUTHOR_REVEALED,
            room=message.room,
            target_user=author,
            message_id=message.pk,
            reason=reason,
        )
    return Revealed(message, author)
