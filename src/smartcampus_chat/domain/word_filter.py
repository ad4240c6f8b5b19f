"""The word filter: whether a message has a word or phrase a site or a room refuses.

Why: a room of 400 students needs its slurs and spam phrases stopped before anyone reads
them, and a filter that a Cyrillic "a" (U+0430) or a fullwidth letter gets past stops nobody.

The site's list (``WORD_FILTER``) and a room's own (``ChatRoom.word_filter``, one entry
per line) are matched on the text's look-alike key, the :func:`~smartcampus_chat.domain.
names.skeleton` room names use (NFKC, case folding, accents dropped, Cyrillic and Greek
look-alikes and the digits 0 and 1 mapped to Latin letters, invisible characters
removed), and on whole words: both sides are reduced to their words (runs of letters and
digits), so "class" does not match "ass" and "buy now" matches "BUY... now!". What a
match does (``WORD_FILTER_ACTION``: refuse or hold for review) is the send pipeline's
(:mod:`smartcampus_chat.services.send_checks`). Pure: no database, no settings read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from smartcampus_chat.domain.names import skeleton

_WORD = re.compile(r"[^\W_]+")


def words(text: str) -> str:
    """``text``'s look-alike key as its words, separated by one space."""
    return " ".join(_WORD.findall(skeleton(text)))


def room_entries(text: str) -> tuple[str, ...]:
    """The entries of a room's list (one per line; blank lines ignored)."""
    return tuple(line.strip() for line in text.splitlines() if line.strip())


@lru_cache(maxsize=256)
def _pattern(entries: tuple[str, ...]) -> re.Pattern[str] | None:
    keys = sorted({key for key in (words(entry) for entry in entries) if key}, key=len)
    if not keys:
        return None
    alternatives = "|".join(re.escape(key) for key in reversed(keys))
    return re.compile(rf"(?<![^ ])(?:{alternatives})(?![^ ])")


def is_filtered(text: str, *lists: Iterable[str]) -> bool:
    """Whether ``text`` has a whole word or phrase of any of ``lists``."""
    entries = tuple(entry for entries in lists for entry in entries)
    pattern = _pattern(entries) if entries else None
    return pattern is not None and pattern.search(words(text)) is not None
