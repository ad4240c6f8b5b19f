"""The live site of tests/browser/test_link_previews.py: the browser suite's settings with
link previews on, fetched from the fake web of :mod:`tests.browser.preview_pages`."""

from __future__ import annotations

from tests.browser import preview_pages  # noqa: F401  (starts the fake web of this process)
from tests.browser.live_settings import *  # noqa: F403
from tests.browser.live_settings import SMARTCAMPUS_CHAT as LIVE_CHAT_SETTINGS

SMARTCAMPUS_CHAT = {
    **LIVE_CHAT_SETTINGS,
    "LINK_PREVIEWS": True,
    # The test sends a message per page of the corpus at once.
    "SEND_RATE_BURST": 1_000_000,
    "SEND_RATE_PER_SECOND": 1_000_000.0,
}
