"""Message formatting: the one place user text becomes HTML.

A message's Markdown source is rendered once, when it is written (sent or edited), by
:func:`render`; the HTML is stored beside the source and is the only user-derived HTML any
client inserts. :func:`plain_text` gives the text of that HTML without markup, for previews
and announcements. See docs/formatting.md.
"""

from django.utils.safestring import SafeString, mark_safe

from smartcampus_chat.markup.markdown import mention_refs, render
from smartcampus_chat.markup.mentions import (
    NO_REFS,
    NOBODY,
    Mentionable,
    MentionRefs,
    mentioned_in,
    mentions_user,
)
from smartcampus_chat.markup.text import plain_text

__all__ = [
    "NOBODY",
    "NO_REFS",
    "MentionRefs",
    "Mentionable",
    "mention_refs",
    "mentioned_in",
    "mentions_user",
    "plain_text",
    "render",
    "stored_html",
]


def stored_html(html: str | None) -> SafeString:
    """A message's stored HTML (``ChatMessage.content_html``), safe for a template: it is
    what :func:`render` produced, and nothing else writes that column."""
    return mark_safe(html or "")  # noqa: S308 - sanitised by render() when written
