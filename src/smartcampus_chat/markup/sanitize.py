"""The allow-list every rendered message passes through (nh3, the Ammonia sanitiser).

Markdown-it already escapes raw HTML and refuses ``javascript:`` links; this list is the
second wall, so that a bug in the parser, a plugin or the maths converter cannot put
anything into a page but these elements and attributes.
"""

from __future__ import annotations

import nh3
from pygments.token import STANDARD_TYPES

#: The class prefix of highlighted code (css/formatting.css holds the colours).
HIGHLIGHT_PREFIX = "scc-hl-"
#: Column alignment of tables, as classes: a ``style`` attribute would break under a CSP.
ALIGN_CLASSES = frozenset({"scc-align-left", "scc-align-center", "scc-align-right"})

_HTML_TAGS = {
    "p", "br", "strong", "em", "del", "s", "a", "code", "pre", "span",
    "blockquote", "ul", "ol", "li", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
#: MathML Core presentation elements the maths converter emits (no ``mglyph``, no
#: ``annotation-xml``, no ``maction``: the ones that can carry other content).
MATH_TAGS = {
    "math", "semantics", "annotation", "mrow", "mi", "mn", "mo", "ms", "mtext",
    "mspace", "msub", "msup", "msubsup", "mfrac", "msqrt", "mroot", "mover", "munder",
    "munderover", "mtable", "mtr", "mtd", "mstyle", "mpadded", "mphantom", "menclose",
}  # fmt: skip
_MATH_ATTRIBUTES = {
    "display", "mathvariant", "stretchy", "fence", "separator", "lspace", "rspace",
    "form", "largeop", "movablelimits", "accent", "accentunder", "displaystyle",
    "scriptlevel", "linethickness", "columnalign", "rowspacing", "columnspacing",
    "width", "height", "depth", "notation", "encoding", "minsize", "maxsize", "symmetric",
}  # fmt: skip

_HIGHLIGHT_CLASSES = {HIGHLIGHT_PREFIX + name for name in STANDARD_TYPES.values() if name}

_CLEANER = nh3.Cleaner(
    tags=_HTML_TAGS | MATH_TAGS,
    attributes={
        "a": {"href", "title"},
        "ol": {"start"},
        "span": {"data-user-id", "data-mention"},
        **{tag: set(_MATH_ATTRIBUTES) for tag in MATH_TAGS},
    },
    allowed_classes={
        "span": _HIGHLIGHT_CLASSES | {"scc-math-error", "scc-mention", "scc-mention-all"},
        "code": {"scc-math-error"},
        "pre": {"scc-code"},
        "th": set(ALIGN_CLASSES),
        "td": set(ALIGN_CLASSES),
    },
    url_schemes={"http", "https", "mailto"},
    link_rel="noopener nofollow ugc",
    set_tag_attribute_values={"a": {"target": "_blank"}},
    strip_comments=True,
)


def sanitize(html: str) -> str:
    """``html`` with everything outside the allow-list removed."""
    return _CLEANER.clean(html)
