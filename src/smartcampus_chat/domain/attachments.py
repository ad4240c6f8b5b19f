"""The rules of shared files, written once: what a file is, what it may be called, how it
may be shown.

A file's type is decided from its first bytes (:func:`detect_type`), never from its name
or the client's ``Content-Type``; only types on ``ATTACHMENT_TYPES`` are accepted, and
only raster images and PDF are ever shown inline by a browser (:func:`shown_inline`).
Markup (HTML, SVG, XML) is recognised as such so that it can be refused, even when it
calls itself ``.txt``.
"""

from __future__ import annotations

import re
import unicodedata

import filetype

from smartcampus_chat.conf import app_settings

#: Bytes of a file's start that :func:`detect_type` reads.
HEAD_BYTES = 8192

#: Raster image types Pillow re-encodes and thumbnails (HEIC with ``pillow-heif``).
RASTER_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp", "image/heic"})

#: Types a browser may render in a tab (``Content-Disposition: inline``); all else downloads.
INLINE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp", "application/pdf"})

#: The start of a text file that a browser would treat as markup if it ever rendered it.
_MARKUP = re.compile(
    rb"\A(?:\xef\xbb\xbf)?\s*<(?:!doctype|html|head|body|svg|\?xml|script|iframe|!--|[a-z]+[\s>])",
    re.IGNORECASE,
)
_MARKUP_TYPES = {b"<svg": "image/svg+xml", b"<?xml": "application/xml"}

#: The longest file name kept (the extension is kept whole).
MAX_NAME_LENGTH = 180


def detect_type(head: bytes) -> str:
    """The MIME type of a file from its first bytes (:data:`HEAD_BYTES` of them).

    Binary formats by their signature (the ``filetype`` package); a file with none that
    decodes as UTF-8 without control characters is ``text/plain``, unless it starts like
    markup (``text/html``, ``image/svg+xml``, ``application/xml``); anything else is
    ``application/octet-stream``.
    """
    kind = filetype.guess(head)
    if kind is not None:
        return "image/heic" if kind.mime in {"image/heif", "image/heic"} else str(kind.mime)
    match = _MARKUP.match(head)
    if match:
        start = match.group(0).lower().lstrip(b"\xef\xbb\xbf").lstrip()
        for prefix, mime in _MARKUP_TYPES.items():
            if start.startswith(prefix):
                return "image/svg+xml" if b"<svg" in head.lower() else mime
        return "text/html"
    if _is_text(head):
        return "text/plain"
    return "application/octet-stream"


def _is_text(head: bytes) -> bool:
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by the end of the head is still text.
        if exc.start < len(head) - 3:
            return False
        text = head[: exc.start].decode("utf-8")
    return not any(unicodedata.category(char) == "Cc" and char not in "\t\n\r\f" for char in text)


def is_allowed_type(mime: str) -> bool:
    """Whether files of type ``mime`` (as detected) may be shared on this site."""
    return mime in app_settings.ATTACHMENT_TYPES


def is_raster(mime: str) -> bool:
    """Whether ``mime`` is an image type that is re-encoded and gets thumbnails."""
    return mime in RASTER_TYPES


def shown_inline(mime: str) -> bool:
    """Whether a browser may show a file of this type in a tab (raster images and PDF);
    every other file is served as a download."""
    return mime in INLINE_TYPES


def clean_name(name: str, *, fallback: str = "file") -> str:
    """A file name fit to show and to send in ``Content-Disposition``: the last segment of
    any path (``/`` or ``\\``), NFC, without control or format characters (newlines,
    bidirectional overrides), no leading dots, at most :data:`MAX_NAME_LENGTH` characters
    with its extension kept. Never used as a path: files are stored under random names."""
    name = unicodedata.normalize("NFC", str(name))
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(char for char in name if unicodedata.category(char) not in {"Cc", "Cf"})
    name = name.strip().lstrip(".").strip()
    if len(name) > MAX_NAME_LENGTH:
        stem, dot, extension = name.rpartition(".")
        if dot and 0 < len(extension) <= 16 and stem:
            name = stem[: MAX_NAME_LENGTH - len(extension) - 1] + "." + extension
        else:
            name = name[:MAX_NAME_LENGTH]
    return name or fallback


def with_extension(name: str, mime: str) -> str:
    """``name`` with the extension of ``mime`` when a conversion changed the type (a HEIC
    photo stored as JPEG)."""
    extension = {"image/jpeg": "jpg", "image/png": "png"}.get(mime)
    if extension is None:
        return name
    stem, dot, _old = name.rpartition(".")
    return f"{stem if dot else name}.{extension}"
