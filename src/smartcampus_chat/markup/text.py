"""The text of a rendered message without its markup (previews, announcements).

Read from the stored HTML (which :mod:`.render` produced, so its shape is known): blocks
and line breaks become spaces, a formula becomes its TeX source. js/chat/format.js applies
the same rule to a message shown live; a browser test holds the two together.
"""

from __future__ import annotations

import re
from html import unescape

import nh3

_MATH = re.compile(r"<math\b[^>]*>.*?<annotation\b[^>]*>(.*?)</annotation>.*?</math>", re.DOTALL)
_BREAK = re.compile(r"<br\s*/?>|</(?:p|li|pre|blockquote|tr|th|td)>")
_TEXT_ONLY = nh3.Cleaner(tags=set(), attributes={}, link_rel=None)
# Python's and JavaScript's \s differ by U+FEFF: both sides use the union.
_SPACES = re.compile(r"[\s\ufeff]+")


def plain_text(html: str) -> str:
    """``html`` (a message's stored HTML) as one line of text."""
    text = _BREAK.sub(" ", _MATH.sub(r"\1", html))
    return _SPACES.sub(" ", unescape(_TEXT_ONLY.clean(text))).strip(" ")
