"""How an attachment's card names a file: an icon and a short label by type, and a size
people read ("1.5 MB").

One rule for both renderers: the server's templates (``chat_file_size``,
``chat_file_type``) and the browser client (``js/chat/files.js``), which gets
:data:`FILE_TYPES` and the size units in the page configuration.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from django.utils import formats
from django.utils.translation import gettext


class FileType(NamedTuple):
    """A Bootstrap icon (``bi-…``) and a short label, both without user text."""

    icon: str
    label: str


#: Labels of the types a site accepts by default (conf ``ATTACHMENT_TYPES``); any other
#: type is shown with :data:`OTHER` and its subtype.
FILE_TYPES: dict[str, FileType] = {
    "application/pdf": FileType("bi-file-earmark-pdf", "PDF"),
    "text/plain": FileType("bi-file-earmark-text", "TXT"),
    "application/zip": FileType("bi-file-earmark-zip", "ZIP"),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": FileType(
        "bi-file-earmark-word", "DOCX"
    ),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": FileType(
        "bi-file-earmark-excel", "XLSX"
    ),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": FileType(
        "bi-file-earmark-ppt", "PPTX"
    ),
    "application/vnd.oasis.opendocument.text": FileType("bi-file-earmark-word", "ODT"),
    "application/vnd.oasis.opendocument.spreadsheet": FileType("bi-file-earmark-excel", "ODS"),
    "application/vnd.oasis.opendocument.presentation": FileType("bi-file-earmark-ppt", "ODP"),
    "audio/mpeg": FileType("bi-file-earmark-music", "MP3"),
    "video/mp4": FileType("bi-file-earmark-play", "MP4"),
    "image/jpeg": FileType("bi-file-earmark-image", "JPEG"),
    "image/png": FileType("bi-file-earmark-image", "PNG"),
    "image/gif": FileType("bi-file-earmark-image", "GIF"),
    "image/webp": FileType("bi-file-earmark-image", "WEBP"),
    "image/heic": FileType("bi-file-earmark-image", "HEIC"),
}

#: The icon of a type not in :data:`FILE_TYPES`.
OTHER_ICON = "bi-file-earmark"

UNIT = 1024


def file_type(content_type: str) -> FileType:
    """The icon and label of ``content_type``; another type gets the generic icon and
    its subtype in capitals ("application/x-foo" → "X-FOO")."""
    known = FILE_TYPES.get(content_type)
    if known is not None:
        return known
    return FileType(OTHER_ICON, content_type.rpartition("/")[2].upper()[:12])


def size_units() -> dict[str, str]:
    """The size units in the request's language, ``%(size)s`` standing for the number."""
    return {
        "B": gettext("%(size)s B"),
        "KB": gettext("%(size)s KB"),
        "MB": gettext("%(size)s MB"),
        "GB": gettext("%(size)s GB"),
    }


def file_size(size: int) -> str:
    """``size`` bytes as people read it: bytes below 1 KiB, else KB, MB or GB (powers of
    1024) with at most one decimal, rounded half up, in the request's language ("1.5 MB",
    "1,5 Mo"). ``js/chat/files.js`` writes the same text (``Intl.NumberFormat``)."""
    value = Decimal(max(0, int(size)))
    unit = "B"
    for name in ("KB", "MB", "GB"):
        if value < UNIT:
            break
        value /= UNIT
        unit = name
    rounded = value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    text = format(rounded.normalize(), "f") if rounded % 1 else str(int(rounded))
    number = text.replace(".", str(formats.get_format("DECIMAL_SEPARATOR")))
    return size_units()[unit] % {"size": number}
