"""Files for the attachment tests, made in memory: real images (with EXIF and GPS), a PDF,
text, and the hostile ones (SVG, HTML, polyglots, a decompression bomb)."""

from __future__ import annotations

import functools
import io
import zlib

from PIL import Image

#: A GPS position written into test photos (Rennes), to find in EXIF if it leaks.
GPS_LATITUDE = (48.0, 6.0, 5.0)


def photo(
    width: int = 640, height: int = 480, *, fmt: str = "JPEG", orientation: int | None = None
) -> bytes:
    """An image with EXIF (camera, GPS, orientation) as phones write it."""
    image = Image.new("RGB", (width, height), (200, 30, 30))
    for x in range(0, width, 8):  # Some detail, so it is not all one colour.
        image.putpixel((x, x * height // width), (0, 0, 0))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Phone 12"  # Model
    if orientation is not None:
        exif[0x0112] = orientation
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = GPS_LATITUDE
    gps[3] = "W"
    gps[4] = (1.0, 40.0, 40.0)
    buffer = io.BytesIO()
    image.save(buffer, fmt, exif=exif)
    return buffer.getvalue()


def png(width: int = 64, height: int = 48) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", (width, height), (10, 120, 200, 255)).save(buffer, "PNG")
    return buffer.getvalue()


PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)

SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>'
SVG_WITH_XML_HEADER = b'<?xml version="1.0"?>\n' + SVG
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
HTML_AS_TEXT = b"  <html><img src=x onerror=alert(1)>"

#: A PNG signature with HTML after it: no image at all.
PNG_HEADER_THEN_HTML = b"\x89PNG\r\n\x1a\n" + HTML


def png_then_html() -> bytes:
    """A whole, valid PNG with HTML appended: a polyglot."""
    return png() + HTML


@functools.cache
def bomb(side: int = 10_000) -> bytes:
    """A tiny PNG declaring ``side`` by ``side`` pixels (a decompression bomb): its one
    compressed row is repeated by zlib, the file stays a few hundred KB."""
    raw_row = b"\x00" + b"\x00" * side
    compressor = zlib.compressobj(1)
    data = b"".join(compressor.compress(raw_row) for _ in range(side)) + compressor.flush()

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return len(body).to_bytes(4, "big") + kind + body + crc.to_bytes(4, "big")

    header = side.to_bytes(4, "big") * 2 + bytes([8, 0, 0, 0, 0])  # 8-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


def heic(width: int, height: int) -> bytes:
    """A HEIC photo with EXIF (pillow-heif's encoder, as a phone's camera writes them)."""
    from pillow_heif import register_heif_opener

    register_heif_opener()
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (30, 90, 160)).save(buffer, "HEIF", exif=exif)
    return buffer.getvalue()
