"""Switching rooms in the app shell (issue #16): the example site in Chromium (the browser
tests' live server, ``seed_demo`` data); a user clicks rooms in the sidebar one after the
other. Each switch is timed in the page, from the click to the new pane's message list in
the document (``performance.now()``): p50 and p95 (target: p95 under 150 ms).
"""

from __future__ import annotations

import importlib
import statistics
from typing import Any

from bench.runner import RunContext

TITLE = "App shell: switching rooms"


#: In the page: click the sidebar link of ``slug``; resolve with [the ms until the pane of
#: ``slug`` shows its message list, the ms its fetch took (Resource Timing)].
SWITCH = """(slug) => new Promise((resolve) => {
  const pane = document.getElementById("scc-pane");
  const shown = () => pane.querySelector(`.scc-room[data-room="${slug}"] #message-list`);
  performance.clearResourceTimings();
  const started = performance.now();
  const observer = new MutationObserver(() => {
    if (!shown()) return;
    observer.disconnect();
    const total = performance.now() - started;
    const fetched = performance.getEntriesByType("resource").filter(e => e.name.includes("pane=1"));
    resolve([total, fetched.length ? fetched[0].responseEnd - fetched[0].startTime : null]);
  });
  observer.observe(pane, {childList: true, subtree: true});
  document.querySelector(`#my-rooms li[data-room="${slug}"] a`).click();
})"""


def run(ctx: RunContext) -> list[dict[str, Any]]:
    from playwright.sync_api import sync_playwright

    # The browser tests' live example site (tests/ is not a package the lint step checks).
    live = importlib.import_module("tests.browser.live")

    switches = 20 if ctx.quick else 100
    samples: list[float] = []
    fetches: list[float] = []
    with live.LiveServer() as site, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=live.CHROMIUM_PATH, args=live.CHROMIUM_ARGS, headless=True
        )
        context = browser.new_context(base_url=site.url, viewport={"width": 1280, "height": 800})
        page = context.new_page()
        live.login_with_form(page, "alice")
        page.goto("/chat/room/general/")
        page.wait_for_function("() => !!document.querySelector('#my-rooms li[data-room]')")
        slugs = page.eval_on_selector_all(
            "#my-rooms li[data-room]", "items => items.map(i => i.dataset.room)"
        )
        ctx.log(f"switch: {switches} switches between {len(slugs)} rooms")
        current = "general"
        for n in range(switches):
            choices = [slug for slug in slugs if slug != current]
            current = choices[n % len(choices)]
            elapsed, fetched = page.evaluate(SWITCH, current)
            samples.append(float(elapsed))
            if fetched is not None:
                fetches.append(float(fetched))
        browser.close()
    ordered = sorted(samples)
    fetched = sorted(fetches) or [0.0]
    return [
        {
            "workload": "switch",
            "target": "example site, Chromium",
            "switches": len(samples),
            "rooms": len(slugs),
            "p50_ms": round(statistics.median(ordered), 1),
            "p95_ms": round(ordered[max(0, int(len(ordered) * 0.95) - 1)], 1),
            "max_ms": round(ordered[-1], 1),
            # Of which the pane's request (server and network), by Resource Timing.
            "fetch_p50_ms": round(statistics.median(fetched), 1),
            "fetch_p95_ms": round(fetched[max(0, int(len(fetched) * 0.95) - 1)], 1),
        }
    ]
