"""Syntax highlighting of fenced code blocks (Pygments, classes only: no inline style)."""

from __future__ import annotations

from html import escape

from pygments import highlight as pygments_highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

from smartcampus_chat.markup.sanitize import HIGHLIGHT_PREFIX

#: Longer code is shown unhighlighted: a lexer's cost grows with the text, and some
#: lexers' regular expressions are slow on hostile input.
MAX_HIGHLIGHTED_CHARS = 20_000

_FORMATTER = HtmlFormatter(nowrap=True, classprefix=HIGHLIGHT_PREFIX)


def highlight(code: str, language: str) -> str:
    """``code`` as HTML for a ``<pre><code>`` block: highlighted when ``language`` names a
    Pygments lexer (``python``, ``js``, ``sql``...), escaped otherwise. No guessing: a block
    without a language is plain, as in every chat."""
    name = language.split(maxsplit=1)[0] if language.strip() else ""
    if not name or len(code) > MAX_HIGHLIGHTED_CHARS:
        return escape(code, quote=False)
    try:
        lexer = get_lexer_by_name(name, stripnl=False, ensurenl=False)
    except ClassNotFound:
        return escape(code, quote=False)
    return str(pygments_highlight(code, lexer, _FORMATTER))
