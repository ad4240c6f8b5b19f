"""The API docs pages (Swagger UI, Redoc) render under the chat's nonce'd CSP with local
assets only: no request leaves the site, no CSP violation (issue #17, finding 9)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import OpenPage


def _watch(page: Page) -> tuple[list[str], dict[str, str]]:
    """The hosts the page's requests went to, and {url: failure} of the failed ones."""
    hosts: list[str] = []
    failed: dict[str, str] = {}
    page.on("requestfinished", lambda request: hosts.append(urlsplit(request.url).hostname or ""))
    page.on("requestfailed", lambda request: failed.update({request.url: request.failure or ""}))
    return hosts, failed


@pytest.mark.parametrize(
    ("path", "rendered"),
    [
        ("/chat/api/docs/", ".swagger-ui .info .title"),
        ("/chat/api/redoc/", "#redoc-container h1"),
    ],
)
def test_api_docs_render_under_the_csp_with_local_assets(
    open_page: OpenPage, path: str, rendered: str
) -> None:
    page = open_page(user="alice")
    hosts, failed = _watch(page)
    response = page.goto(path)
    assert response is not None
    assert "nonce-" in response.headers["content-security-policy"]
    expect(page.locator(rendered).first).to_contain_text("smartcampus-chat API")
    # The operations are listed: the schema was fetched and rendered.
    expect(page.get_by_text("/rooms/", exact=False).first).to_be_attached()
    page.wait_for_load_state("networkidle")
    assert set(hosts) == {"127.0.0.1"}, hosts
    # Redoc's footer logo points at its CDN: the CSP (img-src 'self' data:) stops it in the
    # browser, so it never leaves the machine. Nothing else fails.
    assert all(
        urlsplit(url).hostname == "cdn.redoc.ly" and failure == "csp"
        for url, failure in failed.items()
    ), failed
