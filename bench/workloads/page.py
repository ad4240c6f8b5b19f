"""Page: what a reader's browser loads and how soon a room with 50 messages shows.

The example site (``app-uvicorn-memory``, ``DEBUG`` on so the ASGI server serves the static
files, as in development) opens a room of 50 messages in Chromium (Debian's
``/usr/bin/chromium``, driven by Playwright), signed in with a session cookie, N times
(10; quick: 3), each in a fresh browser context (a cold cache):

- **weight**: every script and style sheet the page loads, the bytes as served and
  gzip-compressed (level 6, what a front server's ``gzip on`` sends; the example site does
  not compress), and the HTML document's;
- **first contentful paint** (the Paint Timing API), ``DOMContentLoaded`` and ``load``;
- **live**: until the page's socket is up (the reader's own presence shows online).

Times are the median of the samples and their maximum; the machine's load shows in them.
"""

from __future__ import annotations

import gzip
import json
import statistics
import urllib.request
from typing import Any

from bench import django_side
from bench.runner import RunContext, serve
from bench.seed import seed_messages
from bench.targets import BY_NAME

TITLE = "Page weight and first paint"
CHROMIUM_PATH = "/usr/bin/chromium"
MESSAGES = 50
ROOMS = 1

#: Notes when the selector first matches (a mutation observer, not the driver's polling).
_LIVE_JS = """new MutationObserver((_, observer) => {
  if (document.querySelector(SELECTOR)) {
    window.__benchLive = performance.now();
    observer.disconnect();
  }
}).observe(document, {subtree: true, childList: true, attributes: true});"""

#: Collected in the page once it is live.
_TIMINGS_JS = """() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const paint = performance.getEntriesByType("paint")
    .find((entry) => entry.name === "first-contentful-paint");
  const resources = performance.getEntriesByType("resource")
    .filter((entry) => /\\.(m?js|css)(\\?|$)/.test(entry.name))
    .map((entry) => entry.name);
  return {
    fcp: paint ? paint.startTime : null,
    dcl: nav.domContentLoadedEventEnd,
    load: nav.loadEventEnd,
    live: window.__benchLive,
    resources,
    document: location.href,
  };
}"""


def _sizes(url: str, cookie: str = "") -> tuple[int, int]:
    """Bytes of ``url`` as served and gzip-compressed."""
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    with urllib.request.urlopen(request, timeout=10) as response:
        body = response.read()
    return len(body), len(gzip.compress(body, compresslevel=6))


def _weight(timings: dict[str, Any], cookie: str) -> dict[str, Any]:
    totals = {"js": [0, 0, 0], "css": [0, 0, 0]}
    for url in sorted(set(timings["resources"])):
        kind = "css" if url.split("?")[0].endswith(".css") else "js"
        raw, packed = _sizes(url)
        totals[kind][0] += 1
        totals[kind][1] += raw
        totals[kind][2] += packed
    html_raw, html_gzip = _sizes(timings["document"], cookie)
    return {
        "js_files": totals["js"][0],
        "js_kib": round(totals["js"][1] / 1024, 1),
        "js_gzip_kib": round(totals["js"][2] / 1024, 1),
        "css_files": totals["css"][0],
        "css_kib": round(totals["css"][1] / 1024, 1),
        "css_gzip_kib": round(totals["css"][2] / 1024, 1),
        "js_css_gzip_kib": round((totals["js"][2] + totals["css"][2]) / 1024, 1),
        "html_kib": round(html_raw / 1024, 1),
        "html_gzip_kib": round(html_gzip / 1024, 1),
    }


def _median_max(values: list[float]) -> tuple[float, float]:
    return round(statistics.median(values), 1), round(max(values), 1)


def run(ctx: RunContext) -> list[dict[str, Any]]:
    from playwright.sync_api import sync_playwright

    samples = 3 if ctx.quick else 10
    target = BY_NAME["app-uvicorn-memory"]
    with serve(ctx, target, rooms=0, users=1, env={"DEBUG": "1"}) as served:
        page_data = django_side.call(served.database_url, django_side.prepare_page, ROOMS)
        for room in page_data["rooms"]:
            if room["messages"] < MESSAGES:
                missing = MESSAGES - room["messages"]
                django_side.call(served.database_url, seed_messages, room["slug"], missing, 4)
        base = f"http://127.0.0.1:{served.port}"
        url = base + page_data["rooms"][0]["path"]
        own = f'#participants li[data-user-id="{page_data["user_id"]}"] .scc-online'
        cookie = {"name": django_side.SESSION_COOKIE, "value": page_data["session"], "url": base}
        runs: list[dict[str, Any]] = []
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM_PATH)
            try:
                for _ in range(samples):
                    context = browser.new_context()
                    context.add_cookies([cookie])
                    context.add_init_script(_LIVE_JS.replace("SELECTOR", json.dumps(own)))
                    page = context.new_page()
                    page.goto(url, wait_until="load")
                    page.wait_for_function("() => window.__benchLive", timeout=15_000)
                    runs.append(page.evaluate(_TIMINGS_JS))
                    context.close()
            finally:
                browser.close()
        session_cookie = f"{django_side.SESSION_COOKIE}={page_data['session']}"
        weight = _weight(runs[-1], session_cookie)
    fcp = _median_max([r["fcp"] for r in runs if r["fcp"] is not None])
    dcl = _median_max([r["dcl"] for r in runs])
    load = _median_max([r["load"] for r in runs])
    live = _median_max([r["live"] for r in runs])
    return [
        {
            "workload": "page",
            "target": target.name,
            "messages": MESSAGES,
            "samples": len(runs),
            **weight,
            "fcp_ms": fcp[0],
            "fcp_max_ms": fcp[1],
            "dcl_ms": dcl[0],
            "load_ms": load[0],
            "live_ms": live[0],
            "live_max_ms": live[1],
        }
    ]
