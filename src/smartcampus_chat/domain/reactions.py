"""The reaction rule: what an emoji is (one, Unicode, fully qualified) and the limits."""

from __future__ import annotations

from typing import Any

import emoji
from django.utils.translation import gettext as _

from smartcampus_chat.exceptions import ValidationFailed

#: Characters of the longest emoji stored (ZWJ families with skin tones are ~11).
MAX_EMOJI_CHARS = 32

#: The picker's emoji (any other single emoji is accepted through the API and sockets).
CHOICES = (
    "👍", "👎", "❤️", "😂", "😮", "😢", "🎉", "🙏", "👀", "✅", "❌", "🔥",
    "💯", "🤔", "👏", "🙌", "😊", "😅", "🚀", "💡", "📌", "⭐", "☕", "🤝",
)  # fmt: skip


def clean_emoji(value: Any) -> str:
    """``value`` as the one emoji it must be, fully qualified ("❤" and "❤️" are one
    reaction); ``ValidationFailed`` on ``emoji`` otherwise."""
    if (
        not isinstance(value, str)
        or not 0 < len(value) <= MAX_EMOJI_CHARS
        or not emoji.is_emoji(value)
    ):
        raise ValidationFailed(fields={"emoji": [_("Must be one emoji.")]})
    return str(emoji.emojize(emoji.demojize(value)))


def emoji_name(value: str, language: str) -> str:
    """The name of ``value`` in ``language`` ("en", "fr"...; English when unknown)."""
    try:
        name = emoji.demojize(value, language=language)
    except (KeyError, NotImplementedError):
        name = emoji.demojize(value)
    return name.strip(":").replace("_", " ")


def reaction_choices(language: str) -> list[dict[str, str]]:
    """The picker's emoji with their names in ``language`` (a language code: "fr", "en-us")."""
    code = language.split("-")[0].lower()
    return [{"emoji": e, "name": emoji_name(e, code)} for e in CHOICES]
