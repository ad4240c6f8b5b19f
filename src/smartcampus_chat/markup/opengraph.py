"""What a link preview shows of a fetched page: title, description, site name, image URL.

The page is hostile input. It is parsed by the standard library's ``html.parser`` (a
tokenizer: nothing is executed, fetched or rendered), only its first
:data:`MAX_INPUT_CHARS` characters, keeping the first value of each tag of interest with
each value capped while it is read. Sources, best first: Open Graph (``og:*``), Twitter
cards (``twitter:*``), then ``<title>`` and ``<meta name="description">``. Texts come
out as one line (whitespace collapsed, control and bidirectional-override characters
dropped) and capped; the image URL is resolved against the page's final URL and kept only
when it is http(s).
"""

from __future__ import annotations

import codecs
import re
import time
import unicodedata
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

#: Characters of the page that are parsed; the head comes first, the rest is not needed.
MAX_INPUT_CHARS = 262_144
MAX_TITLE = 200
MAX_DESCRIPTION = 500
MAX_SITE_NAME = 100
MAX_URL = 2048
#: Seconds of parsing after which the rest of a page is ignored (a backstop).
PARSE_SECONDS = 0.5
_FEED_CHARS = 8192
#: Characters of one attribute value or of the title kept while parsing.
_MAX_RAW = 4096

_TITLE_KEYS = ("og:title", "twitter:title")
_DESCRIPTION_KEYS = ("og:description", "twitter:description", "description")
_SITE_KEYS = ("og:site_name",)
_IMAGE_KEYS = (
    "og:image:secure_url",
    "og:image:url",
    "og:image",
    "twitter:image",
    "twitter:image:src",
)
_META_KEYS = frozenset(_TITLE_KEYS + _DESCRIPTION_KEYS + _SITE_KEYS + _IMAGE_KEYS)
_META_CHARSET = re.compile(
    rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]{1,40})""", re.I
)
# Bidirectional embeddings, overrides and isolates: they can make a title read backwards.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


@dataclass(frozen=True)
class PagePreview:
    """What a page says about itself; empty strings where it says nothing."""

    title: str = ""
    description: str = ""
    site_name: str = ""
    image_url: str | None = None

    def is_empty(self) -> bool:
        return not (self.title or self.description)


class _HeadParser(HTMLParser):
    """Collects the first ``<title>`` and the first value of each meta key of interest."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}
        self.title: str | None = None
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title" and self.title is None:
            self._in_title = True
            self.title = ""
        elif tag == "meta":
            values = {name: (value or "")[:_MAX_RAW] for name, value in attrs}
            key = (values.get("property") or values.get("name") or "").strip().lower()
            if key in _META_KEYS and key not in self.meta and "content" in values:
                self.meta[key] = values["content"]

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title and self.title is not None and len(self.title) < _MAX_RAW:
            self.title += data[: _MAX_RAW - len(self.title)]


def parse_page(body: bytes, final_url: str, charset: str | None = None) -> PagePreview:
    """The preview of the page ``body`` fetched from ``final_url`` (after redirects);
    ``charset`` is the one of the Content-Type header, when it named one."""
    parser = _HeadParser()
    text = decode(body, charset)[:MAX_INPUT_CHARS]
    # Fed in pieces and never closed: html.parser's end-of-input pass over an unclosed
    # construct ("<!--" repeated) is quadratic, its incremental pass is not, and what is
    # still open at the end is not needed.
    deadline = time.monotonic() + PARSE_SECONDS
    for start in range(0, len(text), _FEED_CHARS):
        try:
            parser.feed(text[start : start + _FEED_CHARS])
        except AssertionError:
            # _markupbase before Python 3.13.4 asserts on some malformed declarations
            # ("<![<!["): the page stops there, what was read so far stands.
            break
        if time.monotonic() > deadline:
            break
    meta = parser.meta
    return PagePreview(
        title=clean_text(_first(meta, _TITLE_KEYS) or parser.title or "", MAX_TITLE),
        description=clean_text(_first(meta, _DESCRIPTION_KEYS) or "", MAX_DESCRIPTION),
        site_name=clean_text(_first(meta, _SITE_KEYS) or "", MAX_SITE_NAME),
        image_url=image_url(_first(meta, _IMAGE_KEYS), final_url),
    )


def decode(body: bytes, charset: str | None) -> str:
    """``body`` as text: the header's charset, else a ``<meta charset>`` near the start,
    else UTF-8; unknown names fall back to UTF-8, bad bytes become U+FFFD."""
    for name in (charset, _meta_charset(body[:2048]), "utf-8"):
        if not name:
            continue
        try:
            codec = codecs.lookup(name)
        except LookupError:
            continue
        return body[: MAX_INPUT_CHARS * 4].decode(codec.name, errors="replace")
    raise AssertionError("utf-8 is always known")


def _meta_charset(head: bytes) -> str | None:
    match = _META_CHARSET.search(head)
    return match.group(1).decode("ascii") if match else None


def _first(meta: dict[str, str], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        if meta.get(key, "").strip():
            return meta[key]
    return None


def clean_text(text: str, limit: int) -> str:
    """One line of at most ``limit`` characters: no control or bidi-override characters,
    runs of whitespace as one space, an ellipsis where it was cut."""
    kept = "".join(
        " " if char.isspace() else char
        for char in text
        if char not in _BIDI_CONTROLS and (char.isspace() or unicodedata.category(char) != "Cc")
    )
    line = " ".join(kept.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def image_url(value: str | None, final_url: str) -> str | None:
    """``value`` resolved against the page's URL, if it is a plain http(s) URL."""
    if not value:
        return None
    value = value.strip()
    if any(char.isspace() or unicodedata.category(char) == "Cc" for char in value):
        return None
    resolved = urljoin(final_url, value)
    try:
        parts = urlsplit(resolved)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or len(resolved) > MAX_URL:
        return None
    return resolved
