"""Settings of the live example site the browser tests drive: ``campus.settings`` with the
per-user abuse limits out of the way.

One server process (and its cache) serves the whole browser suite, where the same few demo
users create and join dozens of rooms within seconds: far beyond what the limits allow a
person, and not what these tests are about (the limits are tested through every door in
``tests/test_abuse_limits.py``).
"""

from __future__ import annotations

import os

from campus.settings import *  # noqa: F403
from campus.settings import SMARTCAMPUS_CHAT as SITE_CHAT_SETTINGS

# Files shared in the tests go to the live server's temporary directory (tests/browser/live.py).
MEDIA_ROOT = os.environ["SCC_LIVE_MEDIA_ROOT"]

SMARTCAMPUS_CHAT = {
    **SITE_CHAT_SETTINGS,
    # The login is shown ("@handle" on the people page and member lists), so that the XSS
    # corpus of tests/browser/test_xss.py runs through that rendering path too; the
    # default (hidden) is covered by tests/test_host_email_portal.py and test_people_scope.
    "EXPOSE_USERNAME": True,
    **{
        f"{action}_RATE_{part}": value
        for action in ("RESUME", "READ", "CREATE", "MEMBERSHIP", "SEARCH", "UPLOAD")
        for part, value in (("BURST", 1_000_000), ("PER_SECOND", 1_000_000.0))
    },
}
