"""A link preview's network side (infra.link_preview, infra.preview_image): the page and
its image through the SSRF guard, against local servers behind a fake DNS."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Iterator

import pytest
from django.test import override_settings
from PIL import Image, ImageCms

from smartcampus_chat.infra import preview_image, safe_fetch
from smartcampus_chat.infra.link_preview import NothingToPreview, fetch_link_preview
from smartcampus_chat.infra.preview_image import ImageRefused, reencode
from tests.fetch_servers import NEWS_PAGE, PUBLIC_A, PUBLIC_B, FakeNetwork, PageServer, Reply

#: The news page, its image on another host (a second site behind the guard).
PAGE = NEWS_PAGE.replace(b'content="/lab.png"', b'content="http://cdn.example/lab.jpg"')
GPS_TAG = 0x8825


def photo(width: int = 1600, height: int = 1200, fmt: str = "JPEG", **save: object) -> bytes:
    image = Image.new("RGB", (width, height), (200, 30, 30))
    out = io.BytesIO()
    image.save(out, fmt, **save)
    return out.getvalue()


def photo_with_gps() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0112] = 6  # Orientation: rotate 90° to show upright
    exif.get_ifd(GPS_TAG).update({1: "N", 2: (48.0, 51.0, 24.0), 3: "E", 4: (2.0, 21.0, 3.0)})
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    return photo(1600, 1200, exif=exif.tobytes(), comment=b"secret comment", icc_profile=srgb)


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares ``width`` x ``height`` and holds almost nothing: opening it
    costs nothing, decoding it would cost width * height * 3 bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@pytest.fixture
def server() -> Iterator[PageServer]:
    with PageServer() as page_server:
        page_server.pages["/"] = Reply(body=PAGE)
        page_server.pages["/lab.jpg"] = Reply(
            headers={"Content-Type": "image/jpeg"}, body=photo_with_gps()
        )
        yield page_server


@pytest.fixture
def network(server: PageServer) -> FakeNetwork:
    net = FakeNetwork()
    net.add_site("news.example", server)
    net.add_site("cdn.example", server, address=PUBLIC_B)
    net.dns["intranet.example"] = ["10.0.0.7"]
    return net


def test_page_and_image_become_a_preview_without_metadata(network: FakeNetwork) -> None:
    preview = fetch_link_preview("http://news.example/", network=network.network())
    assert (preview.url, preview.title, preview.description, preview.site_name) == (
        "http://news.example/",
        "Robotics lab open day",
        "Come & see the robots.",
        "Campus News",
    )
    assert preview.image is not None
    with Image.open(io.BytesIO(preview.image.data)) as image:
        assert image.format == "JPEG"
        # Upright (the orientation tag applied: 1600x1200 shown as 1200x1600), then fitted.
        assert image.size == (450, 600) == (preview.image.width, preview.image.height)
        assert not image.getexif()
        assert "exif" not in image.info
        assert "comment" not in image.info
        assert "icc_profile" not in image.info
    assert b"PhoneMaker" not in preview.image.data
    assert network.connections == [(PUBLIC_A, 80), (PUBLIC_B, 80)]


@pytest.mark.parametrize(
    ("reply", "why"),
    [
        (Reply(headers={"Content-Type": "image/svg+xml"}, body=b"<svg onload=alert(1)/>"), "type"),
        (Reply(headers={"Content-Type": "image/png"}, body=b"<html><script>x</script>"), "image"),
        (Reply(headers={"Content-Type": "image/png"}, body=b"%!PS-Adobe-3.0 EPSF-3.0\n"), "image"),
        (
            Reply(headers={"Content-Type": "image/png"}, body=png_header_only(100_000, 100_000)),
            "image",
        ),
        (Reply(headers={"Content-Type": "image/jpeg"}, body=photo()[:500]), "image"),
        (Reply(size=6 * 1024 * 1024, headers={"Content-Type": "image/jpeg"}), "size"),
        (Reply(302, {"Location": "http://127.0.0.1/lab.jpg"}), "redirect"),
        (Reply(302, {"Location": "http://intranet.example/lab.jpg"}), "redirect"),
    ],
)
def test_a_refused_image_leaves_a_preview_without_image(
    network: FakeNetwork, server: PageServer, reply: Reply, why: str
) -> None:
    server.pages["/lab.jpg"] = reply
    preview = fetch_link_preview("http://news.example/", network=network.network())
    assert preview.title == "Robotics lab open day"
    assert preview.image is None
    # The page, then the image's first hop; a redirect's target is never connected to.
    assert network.connections == [(PUBLIC_A, 80), (PUBLIC_B, 80)]


def test_the_pixel_limit_setting_is_checked_before_decoding(network: FakeNetwork) -> None:
    with override_settings(SMARTCAMPUS_CHAT={"LINK_PREVIEW_MAX_IMAGE_PIXELS": 1_000_000}):
        preview = fetch_link_preview("http://news.example/", network=network.network())
    assert preview.image is None  # 1600 x 1200 = 1.92 Mpx
    with pytest.raises(ImageRefused, match="more than"):
        reencode(png_header_only(2000, 2000), max_pixels=1_000_000)
    with pytest.raises(ImageRefused):
        reencode(png_header_only(100_000, 100_000), max_pixels=10**12)  # Pillow's own guard


def test_transparent_and_animated_images_are_flattened() -> None:
    rgba = Image.new("RGBA", (800, 400), (0, 0, 0, 0))
    out = io.BytesIO()
    rgba.save(out, "PNG")
    result = reencode(out.getvalue(), max_pixels=10**7)
    with Image.open(io.BytesIO(result.data)) as image:
        assert (image.size, image.mode) == ((600, 300), "RGB")
        assert image.getpixel((10, 10)) == (255, 255, 255)
    frames = [Image.new("P", (50, 50), n) for n in range(3)]
    gif = io.BytesIO()
    frames[0].save(gif, "GIF", save_all=True, append_images=frames[1:])
    assert reencode(gif.getvalue(), max_pixels=10**7).width == 50
    webp = reencode(photo(300, 200, "WEBP"), max_pixels=10**7)
    assert (webp.width, webp.height) == (300, 200)  # never enlarged


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("http://127.0.0.1/", safe_fetch.AddressNotAllowed),
        ("http://intranet.example/", safe_fetch.AddressNotAllowed),
        ("file:///etc/passwd", safe_fetch.BadURL),
    ],
)
def test_a_refused_page_is_no_preview(
    network: FakeNetwork, url: str, error: type[Exception]
) -> None:
    with pytest.raises(error):
        fetch_link_preview(url, network=network.network())
    assert network.connections == []


def test_a_page_that_says_nothing_is_no_preview(network: FakeNetwork, server: PageServer) -> None:
    server.pages["/"] = Reply(body=b"<p>no head at all</p>")
    with pytest.raises(NothingToPreview):
        fetch_link_preview("http://news.example/", network=network.network())
    server.pages["/"] = Reply(headers={"Content-Type": "image/png"}, body=photo(fmt="PNG"))
    with pytest.raises(safe_fetch.BadContentType):
        fetch_link_preview("http://news.example/", network=network.network())


def test_the_default_network_can_be_replaced(
    network: FakeNetwork, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(safe_fetch, "default_network", network.network())
    assert fetch_link_preview("http://news.example/").title == "Robotics lab open day"
    assert preview_image.MAX_SIDE == 600
