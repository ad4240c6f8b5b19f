"""Anonymous-to-classmates posts (docs/anonymous-posts.md): the rules that are not access.

Who may post one and who may reveal its author are the policy's
(:meth:`~smartcampus_chat.domain.policies.ChatPolicy.can_post_anonymously`,
:meth:`~smartcampus_chat.domain.policies.ChatPolicy.can_reveal_author`); how one is shown
is decided in one place, ``protocol/render.py``.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from smartcampus_chat.exceptions import ValidationFailed

#: What every door shows instead of an anonymous post's author.
ANONYMOUS_NAME = gettext_lazy("Anonymous classmate")

#: A reveal's reason: required, at most this many characters (the audit log's column).
MAX_REASON_LENGTH = 500


def clean_anonymous(value: Any) -> bool:
    """The ``anonymous`` send option: absent or a boolean."""
    if value is None:
        return False
    if not isinstance(value, bool):
        raise ValidationFailed(fields={"anonymous": [_("Must be true or false.")]})
    return value


def clean_reason(value: Any) -> str:
    """A reveal's reason: text, not blank, at most :data:`MAX_REASON_LENGTH` characters."""
    text = value.strip() if isinstance(value, str) else ""
    if not text or "\x00" in text:
        message = _("Say why you reveal the author.")
        raise ValidationFailed(message, fields={"reason": [message]})
    if len(text) > MAX_REASON_LENGTH:
        message = _("At most %(max)d characters.") % {"max": MAX_REASON_LENGTH}
        raise ValidationFailed(message, fields={"reason": [message]})
    return text


def shows_author(message: Any) -> bool:
    """Whether a door may name ``message``'s author to the room: not for an anonymous post."""
    return not getattr(message, "anonymous", False)
