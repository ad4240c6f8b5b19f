"""A link preview's image: fetched bytes in, a small re-encoded JPEG out.

The original is never stored nor served: it is opened by Pillow (only as JPEG, PNG, GIF
or WebP: no exotic decoders, no Ghostscript), refused when its declared size exceeds the
pixel limit *before* any pixel is decoded (decompression bombs), turned upright, reduced
to fit :data:`MAX_SIDE` and saved as a fresh JPEG, which carries no EXIF (GPS), no ICC
profile, no comment, no trailing bytes.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps

from smartcampus_chat.infra.safe_fetch import FetchError

#: Longest side of a preview image, in pixels.
MAX_SIDE = 600
#: What Pillow may open: the raster formats of the web.
FORMATS = ("JPEG", "PNG", "GIF", "WEBP")
JPEG_QUALITY = 82


class ImageRefused(FetchError):
    """Not an image Pillow may open, too many pixels, or broken."""

    code = "bad_image"


@dataclass(frozen=True)
class PreviewImage:
    data: bytes
    width: int
    height: int
    content_type: str = "image/jpeg"


def reencode(data: bytes, *, max_pixels: int) -> PreviewImage:
    """``data`` as a JPEG of at most :data:`MAX_SIDE` pixels a side, without metadata."""
    try:
        with warnings.catch_warnings():
            # Pillow's own bomb guard warns, then raises, far above any sane limit; make
            # its warning an error too, in case max_pixels is set above it.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=FORMATS) as original:
                width, height = original.size
                if width * height > max_pixels:
                    raise ImageRefused(f"{width}x{height} pixels is more than {max_pixels}")
                original.draft("RGB", (MAX_SIDE, MAX_SIDE))  # JPEG: decode at a smaller scale
                image = _flattened(ImageOps.exif_transpose(original))
    except ImageRefused:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, Warning) as exc:
        # OSError: not an image, a truncated one, a decoder error; SyntaxError: some
        # plugins' "not a valid file"; ValueError: bad dimensions.
        raise ImageRefused(f"{type(exc).__name__}: {exc}") from exc
    image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    # Pillow's JPEG writer copies some of the source's metadata (its comment, for one)
    # from ``info``: nothing of the original goes out.
    image.info.clear()
    out = io.BytesIO()
    image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    return PreviewImage(out.getvalue(), image.width, image.height)


def _flattened(image: Image.Image) -> Image.Image:
    """RGB, transparency over white (the first frame of an animation)."""
    image.seek(0)
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")
