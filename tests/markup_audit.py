"""Checks of a message's rendered HTML, shared by the formatting, system message and XSS
tests: what the allow-list lets through, and the text a browser shows of it."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from smartcampus_chat.markup import sanitize

HTML_TAGS = {
    "p", "br", "strong", "em", "del", "s", "a", "code", "pre", "span", "blockquote",
    "ul", "ol", "li", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
TAGS = HTML_TAGS | sanitize.MATH_TAGS
#: Attributes each element may carry (every MathML element: the layout attributes).
ATTRIBUTES = {
    "a": {"href", "title", "target", "rel"},
    "ol": {"start"},
    "span": {"class", "data-user-id", "data-mention"},
    "code": {"class"},
    "pre": {"class"},
    "th": {"class"},
    "td": {"class"},
}
#: A URL's scheme as a browser reads it (after dropping tabs and line breaks, and the
#: controls and spaces at its ends); none: a relative URL.
_SCHEME = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*):")


#: Whole class names the renderer writes (besides the highlighting and alignment prefixes).
_CLASSES = {"scc-code", "scc-math-error", "scc-mention", "scc-mention-all"}


def safe_url(url: str) -> bool:
    cleaned = re.sub(r"[\t\n\r]", "", url).strip("".join(map(chr, range(33))))
    scheme = _SCHEME.match(cleaned)
    return scheme is None or scheme.group(1).lower() in ("http", "https", "mailto")


class _Audit(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in TAGS:
            self.problems.append(f"element <{tag}>")
        allowed = ATTRIBUTES.get(tag, set())
        if tag in sanitize.MATH_TAGS:
            allowed = {"display", "encoding", "mathvariant", "stretchy", "fence", "width"}
            allowed |= {"separator", "lspace", "rspace", "form", "largeop", "accent"}
            allowed |= {"movablelimits", "accentunder", "displaystyle", "scriptlevel"}
            allowed |= {"linethickness", "columnalign", "rowspacing", "columnspacing"}
            allowed |= {"height", "depth", "notation", "minsize", "maxsize", "symmetric"}
        for name, value in attrs:
            if name not in allowed:
                self.problems.append(f"attribute {name}={value!r} on <{tag}>")
            elif name == "href" and not safe_url(value or ""):
                self.problems.append(f"link {value!r}")
            elif name == "class" and not all(
                c.startswith(("scc-hl-", "scc-align-")) or c in _CLASSES
                for c in (value or "").split()
            ):
                self.problems.append(f"class {value!r} on <{tag}>")
            elif name == "data-user-id" and not (value or "").isdigit():
                self.problems.append(f"data-user-id {value!r}")
            elif name == "data-mention" and value != "everyone":
                self.problems.append(f"data-mention {value!r}")
            elif name == "target" and value != "_blank":
                self.problems.append(f"target {value!r}")
            elif name == "rel" and value != "noopener nofollow ugc":
                self.problems.append(f"rel {value!r}")

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def handle_comment(self, data: str) -> None:
        self.problems.append(f"comment {data!r}")


def problems(html: str) -> list[str]:
    """What in ``html`` the allow-list should never let through (empty: nothing)."""
    audit = _Audit()
    audit.feed(html)
    audit.close()
    return audit.problems


def text_content(html: str) -> str:
    """The ``textContent`` a browser gives ``html`` put into an element."""
    audit = _Audit()
    audit.feed(html)
    audit.close()
    return "".join(audit.text)
