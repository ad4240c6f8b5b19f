"""Search result snippets: a window of a message's plain text with the searched words
marked, as HTML that holds nothing but escaped text and ``<mark>`` elements.

Built here, in Python, rather than by the database (``ts_headline``, FTS5's ``snippet()``):
their output is the user's raw text with markers inserted, which would have to be escaped
around markers the user could also type. Here the text is cut into words, each piece is
escaped, and only this module writes ``<mark>``.

A word matches a searched word when, compared without case and accents, it equals it or
starts with it (so "exams" is marked for "exam", as a stemming search configuration finds
it).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from html import escape

from django.utils.safestring import SafeString, mark_safe

#: Characters of a snippet (about two lines of a result list).
SNIPPET_CHARS = 180
#: Characters shown before the first marked word.
LEAD_CHARS = 50
_WORD = re.compile(r"[^\W_]+")


def fold(word: str) -> str:
    """``word`` without case and accents: "Été" → "ete"."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _start(text: str, first: int) -> int:
    """Where a window showing the match at ``first`` starts: at a word's start."""
    if first <= LEAD_CHARS:
        return 0
    start = first - LEAD_CHARS
    space = text.find(" ", start, first)
    return space + 1 if space != -1 else start


def snippet_html(text: str, searched: Iterable[str]) -> SafeString:
    """HTML of a window of ``text`` (plain text) around its first searched word, every
    searched word in it inside ``<mark>``; "…" where the text is cut."""
    wanted = tuple(folded for folded in map(fold, searched) if folded)
    matches = [
        (m.start(), m.end())
        for m in _WORD.finditer(text)
        if wanted and fold(m.group()).startswith(wanted)
    ]
    start = _start(text, matches[0][0]) if matches else 0
    end = min(len(text), start + SNIPPET_CHARS)
    if end < len(text):
        space = text.rfind(" ", start + SNIPPET_CHARS // 2, end)
        end = space if space != -1 else end
    parts = ["…" if start else ""]
    cursor = start
    for match_start, match_end in matches:
        if match_start < start or match_end > end:
            continue
        parts.append(escape(text[cursor:match_start]))
        parts.append(f"<mark>{escape(text[match_start:match_end])}</mark>")
        cursor = match_end
    parts.append(escape(text[cursor:end]))
    parts.append("…" if end < len(text) else "")
    return mark_safe("".join(parts))  # noqa: S308 - every piece of text is escaped above
