"""Images through Pillow: check, re-encode without metadata, thumbnail.

An uploaded image is never served as uploaded. It is decoded (its pixel count checked
from the header first, so a decompression bomb is refused before any pixel is
allocated), turned upright from its EXIF orientation and encoded again without any
metadata: no EXIF (GPS position, camera serial), no XMP, no comments, nothing appended
after the image (a PNG followed by HTML comes out a plain PNG).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field
from typing import IO

from PIL import Image, ImageOps, UnidentifiedImageError

from smartcampus_chat.exceptions import ImageTooLarge, InvalidImage

#: Longest side of each thumbnail, by name (``files/<id>/thumb/<name>/``).
THUMBNAIL_SIZES = {"small": 320, "large": 1280}

#: The formats images are stored in, by detected type; HEIC photos become JPEG.
_FORMATS = {
    "image/jpeg": ("JPEG", "image/jpeg"),
    "image/png": ("PNG", "image/png"),
    "image/gif": ("GIF", "image/gif"),
    "image/webp": ("WEBP", "image/webp"),
    "image/heic": ("JPEG", "image/jpeg"),
}


@dataclass
class Encoded:
    """An image encoded: its bytes, type and size in pixels."""

    data: bytes
    content_type: str
    width: int
    height: int


@dataclass
class ProcessedImage:
    """What is stored of an uploaded image: the image itself and its thumbnails."""

    image: Encoded
    thumbnails: dict[str, Encoded] = field(default_factory=dict)


def _register_heif() -> bool:
    try:
        from pillow_heif import register_heif_opener
    except ImportError:
        return False
    register_heif_opener()
    return True


HEIF_SUPPORTED = _register_heif()


def process(file: IO[bytes], mime: str, *, max_pixels: int) -> ProcessedImage:
    """Check and re-encode the image in ``file`` (of detected type ``mime``).

    Raises ``ImageTooLarge`` beyond ``max_pixels`` and ``InvalidImage`` for anything
    Pillow cannot decode whole (a truncated file, a signature on something else).
    """
    if mime not in _FORMATS or (mime == "image/heic" and not HEIF_SUPPORTED):
        raise InvalidImage()
    file.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(file)
            if image.width * image.height > max_pixels:
                raise ImageTooLarge()
            image.load()
            frames = getattr(image, "n_frames", 1)
            if frames > 1 and image.width * image.height * frames > max_pixels * 4:
                raise ImageTooLarge()
            upright = ImageOps.exif_transpose(image) or image
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageTooLarge() from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise InvalidImage() from exc
    stored_format, stored_type = _FORMATS[mime]
    encoded = _encode(upright, stored_format, stored_type, animated=frames > 1)
    return ProcessedImage(encoded, thumbnails(upright))


def thumbnails(image: Image.Image) -> dict[str, Encoded]:
    """The thumbnails of ``image`` smaller than it (:data:`THUMBNAIL_SIZES`): JPEG, or WebP
    when it has transparency (JPEG encodes ~30 times faster than WebP at its default
    effort). Each is resized from the one before (the 320 px one from the 1280 px one,
    not the photo), through a reduced copy (``reducing_gap``): a 12 Mpx photo takes tens
    of milliseconds, not hundreds."""
    transparent = "A" in image.getbands() or "transparency" in image.info
    source = image
    if image.mode not in {"RGB", "RGBA"}:
        source = image.convert("RGBA" if transparent else "RGB")
    made: dict[str, Encoded] = {}
    for name, side in sorted(THUMBNAIL_SIZES.items(), key=lambda item: -item[1]):
        if max(image.width, image.height) <= side:
            continue
        scale = side / max(source.width, source.height)
        size = (max(1, round(source.width * scale)), max(1, round(source.height * scale)))
        source = source.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0)
        buffer = io.BytesIO()
        if transparent:
            source.save(buffer, "WEBP", quality=80, method=0)
        else:
            source.convert("RGB").save(buffer, "JPEG", quality=82)
        made[name] = Encoded(
            buffer.getvalue(), "image/webp" if transparent else "image/jpeg", *source.size
        )
    return made


def _encode(image: Image.Image, fmt: str, content_type: str, *, animated: bool) -> Encoded:
    """``image`` in ``fmt`` with no metadata: only the pixels (and, for GIF, its frames
    and their timing) are written."""
    buffer = io.BytesIO()
    options: dict[str, object] = {}
    if fmt == "JPEG":
        image = image.convert("RGB") if image.mode not in {"RGB", "L", "CMYK"} else image
        options = {"quality": 90, "optimize": False}
    elif fmt == "WEBP":
        options = {"quality": 90, "save_all": animated}
    elif fmt == "GIF":
        options = {"save_all": animated}
    if animated:  # Frames are read from the file as saved: strip what they would carry.
        image.info = {key: image.info[key] for key in _FRAME_KEYS if key in image.info}
        clean = image
    else:
        clean = _without_metadata(image)
    clean.save(buffer, fmt, **options)
    return Encoded(buffer.getvalue(), content_type, image.width, image.height)


#: What an animation keeps of its ``info``: its timing and transparency, nothing written
#: by a person or a camera (comments, EXIF, XMP).
_FRAME_KEYS = ("duration", "loop", "transparency", "background", "disposal")


def _without_metadata(image: Image.Image) -> Image.Image:
    """A copy of ``image``'s pixels (and palette), with none of its ``info`` (EXIF, XMP,
    ICC aside: colour stays right), so no encoder can write them back."""
    copy = image.copy()
    icc = image.info.get("icc_profile")
    transparency = image.info.get("transparency")
    copy.info = {}
    if icc:
        copy.info["icc_profile"] = icc
    if transparency is not None:
        copy.info["transparency"] = transparency
    return copy
