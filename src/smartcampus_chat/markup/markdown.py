"""Markdown source → sanitised HTML, once per write (send, edit, system message).

CommonMark with the parts a chat needs: emphasis, strikethrough, links (and bare URLs),
lists, quotes, inline code, fenced code with highlighting, tables and TeX maths. Headings,
rules and images are off (a ``#`` or ``![]()`` in a chat line stays text), raw HTML is
escaped, a line break is a line break. The result then passes :func:`.sanitize.sanitize`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from html import escape
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.dollarmath import dollarmath_plugin

from smartcampus_chat.conf import app_settings
from smartcampus_chat.markup.code import highlight
from smartcampus_chat.markup.maths import MAX_FORMULAS, error_html, math_to_html
from smartcampus_chat.markup.mentions import (
    NO_REFS,
    NOBODY,
    Mentionable,
    MentionRefs,
    mention_plugin,
    refs_in,
)
from smartcampus_chat.markup.sanitize import ALIGN_CLASSES, sanitize
from smartcampus_chat.markup.text import plain_text

#: Deepest nesting of blocks and inlines (quotes in lists in quotes...): deeper text is
#: left as text, which bounds the parser's work and the page's layout.
MAX_NESTING = 20

_OFF = ["heading", "lheading", "hr", "image", "html_block", "html_inline"]

#: A line no Markdown rule can touch, rendered without the parser (most chat lines): it
#: starts with a letter (no list, quote or heading marker); then letters, digits, single
#: spaces and punctuation that starts nothing (":", ".", "!" only before a space or at the
#: end, so no link, domain or image; "|" makes no table on one line).
#: tests/test_formatting.py compares it with the parser.
_PLAIN = re.compile(r"[^\W\d_](?:[^\W_]|[,;'\"?()%=+|-]| (?=\S)|[.:!](?= |$))*")


def _fence(code: str, language: str, _attrs: str) -> str:
    return f'<pre class="scc-code"><code>{highlight(code, language)}</code></pre>'


def _math(display: bool) -> Any:
    def render_math(
        _renderer: Any, tokens: Sequence[Token], idx: int, _options: Any, env: dict[str, Any]
    ) -> str:
        env["formulas"] = env.get("formulas", 0) + 1
        tex = tokens[idx].content
        if env["formulas"] > MAX_FORMULAS:
            return error_html(tex.strip(), display=display)
        html = math_to_html(tex, display=display)
        return f"<p>{html}</p>" if display and tokens[idx].block else html

    return render_math


def _align_as_class(state: Any) -> None:
    """Table cells' ``style="text-align:…"`` (which a CSP blocks) become a class."""
    for token in state.tokens:
        if token.type in ("th_open", "td_open") and token.attrs.get("style"):
            side = str(token.attrs.pop("style")).removeprefix("text-align:")
            if f"scc-align-{side}" in ALIGN_CLASSES:
                token.attrSet("class", f"scc-align-{side}")


def _parser(*, maths: bool) -> MarkdownIt:
    md = MarkdownIt(
        "commonmark",
        {"breaks": True, "html": False, "linkify": True, "maxNesting": MAX_NESTING},
    )
    md.options["highlight"] = _fence
    md.enable(["table", "strikethrough", "linkify"])
    md.disable(_OFF)
    if maths:
        dollarmath_plugin(
            md, allow_labels=False, allow_space=False, allow_digits=False, double_inline=True
        )
        md.add_render_rule("math_inline", _math(False))
        md.add_render_rule("math_inline_double", _math(True))
        md.add_render_rule("math_block", _math(True))
    md.core.ruler.push("scc_align", _align_as_class)
    mention_plugin(md)
    return md


#: The parsers, with maths and without (the ``MATHS`` setting picks one at each render).
_MARKDOWN = {True: _parser(maths=True), False: _parser(maths=False)}


def render_markdown(source: str, mentionable: Mentionable = NOBODY) -> str:
    """``source`` through the parser and the sanitiser (:func:`render` without its shortcut
    for plain lines)."""
    env = {"mentionable": mentionable}
    return sanitize(_MARKDOWN[app_settings.MATHS].render(source, env)).strip()


def mention_refs(source: str) -> MentionRefs:
    """Whom ``source`` mentions (outside code), for the caller to resolve before
    :func:`render`. A line without ``@`` is not parsed."""
    if "@" not in source:
        return NO_REFS
    return refs_in(_MARKDOWN[app_settings.MATHS].parse(source, {}))


def render(source: str, mentionable: Mentionable = NOBODY) -> str:
    """``source`` (a message's cleaned text) as the HTML every client shows; the mentions
    of ``mentionable`` marked (the others stay text).

    Markup that leaves no text (blocks nested past :data:`MAX_NESTING`, an empty list
    item) is shown as the source itself: a message never renders blank.
    """
    if _PLAIN.fullmatch(source):
        return "<p>" + escape(source, quote=False) + "</p>"
    html = render_markdown(source, mentionable)
    if plain_text(html) or not source.strip():
        return html
    return "<p>" + escape(source, quote=False).replace("\n", "<br>\n") + "</p>"
