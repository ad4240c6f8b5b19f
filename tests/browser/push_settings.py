"""The live site with Web Push on (tests/browser/test_push.py): the VAPID keys come from
the environment the test sets, the push services allowed are the real ones (the browser's
own push service decides the endpoint)."""

from __future__ import annotations

import os

from tests.browser.live_settings import *  # noqa: F403
from tests.browser.live_settings import SMARTCAMPUS_CHAT as LIVE_CHAT_SETTINGS

SMARTCAMPUS_CHAT = {
    **LIVE_CHAT_SETTINGS,
    "NOTIFY_PUSH": True,
    "NOTIFY_SITE_URL": "http://127.0.0.1",
    "WEB_PUSH_VAPID_PUBLIC_KEY": os.environ.get("SCC_PUSH_PUBLIC_KEY", ""),
    "WEB_PUSH_VAPID_PRIVATE_KEY": os.environ.get("SCC_PUSH_PRIVATE_KEY", ""),
    "WEB_PUSH_SUBJECT": "mailto:it@campus.example.edu",
}
