"""A link preview from a URL: the page and its image, each through the SSRF guard.

:func:`fetch_link_preview` is the whole network side of a preview (the services decide
when it runs and store what it returns): the page through :func:`safe_fetch.safe_get`
(HTML only, ``LINK_PREVIEW_MAX_PAGE_BYTES``), its Open Graph data through
:mod:`markup.opengraph`, then its image, if any, through the same guard
(``LINK_PREVIEW_MAX_IMAGE_BYTES``) and :mod:`infra.preview_image`. An image that fails
leaves a preview without image; a page that fails, or says nothing, is no preview
(a :class:`safe_fetch.FetchError`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from smartcampus_chat.conf import app_settings
from smartcampus_chat.infra import preview_image, safe_fetch
from smartcampus_chat.infra.preview_image import PreviewImage
from smartcampus_chat.infra.safe_fetch import FetchError, FetchLimits, FetchPolicy, Network
from smartcampus_chat.markup.opengraph import parse_page

logger = logging.getLogger(__name__)

PAGE_TYPES = ("text/html", "application/xhtml+xml")
IMAGE_TYPES = ("image/",)


class NothingToPreview(FetchError):
    """The page has neither a title nor a description."""

    code = "nothing_to_preview"


@dataclass(frozen=True)
class LinkPreview:
    url: str  # the URL of the message (not where redirects ended)
    title: str
    description: str
    site_name: str
    image: PreviewImage | None


def fetch_link_preview(url: str, *, network: Network | None = None) -> LinkPreview:
    """The preview of ``url``; raises :class:`safe_fetch.FetchError` when there is none."""
    policy = FetchPolicy.from_settings()
    timeout = app_settings.LINK_PREVIEW_TIMEOUT
    page = safe_fetch.safe_get(
        url,
        accept=PAGE_TYPES,
        limits=FetchLimits(app_settings.LINK_PREVIEW_MAX_PAGE_BYTES, timeout),
        policy=policy,
        network=network,
    )
    found = parse_page(page.body, page.url, page.charset)
    if found.is_empty():
        raise NothingToPreview(page.url)
    image = None
    if found.image_url:
        try:
            fetched = safe_fetch.safe_get(
                found.image_url,
                accept=IMAGE_TYPES,
                limits=FetchLimits(app_settings.LINK_PREVIEW_MAX_IMAGE_BYTES, timeout),
                policy=policy,
                network=network,
            )
            image = preview_image.reencode(
                fetched.body, max_pixels=app_settings.LINK_PREVIEW_MAX_IMAGE_PIXELS
            )
        except FetchError as exc:
            logger.info("link preview of %s: image %s refused (%s)", url, found.image_url, exc.code)
    return LinkPreview(url, found.title, found.description, found.site_name, image)
