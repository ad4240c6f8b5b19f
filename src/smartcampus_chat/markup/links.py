"""The links of a rendered message: what a link preview is made for.

Read from the stored, sanitised HTML (``content_html``), where Markdown already decided
what is a link: a URL written in code (`` `http://…` `` or a code block) is text there,
not an ``<a>``, so it is never previewed.
"""

from __future__ import annotations

from html.parser import HTMLParser

#: Longest URL previewed (``ChatLinkPreview.url``).
MAX_URL = 2048


class _FirstLink(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "a" or self.found is not None:
            return
        href = (dict(attrs).get("href") or "").strip()
        if href.lower().startswith(("http://", "https://")) and len(href) <= MAX_URL:
            self.found = href


def first_link(html: str) -> str | None:
    """The first absolute http(s) link of a message's HTML, or None."""
    parser = _FirstLink()
    parser.feed(html)
    parser.close()
    return parser.found
