"""The fake web of the link-preview browser test, started inside the live server's process
(imported by :mod:`tests.browser.preview_settings`).

``news.example`` resolves to a public-looking address that the connector routes to a page
server on 127.0.0.1: ``/xss/<n>`` is a page whose title is payload ``2n`` of the XSS corpus
and whose description is payload ``2n + 1`` (escaped into the attributes, so that the text
parsed is the payload), with an image. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import html

from smartcampus_chat.infra import safe_fetch
from tests.fetch_servers import FakeNetwork, PageServer, Reply, png
from tests.xss_corpus import PAYLOADS

IMAGE = png(640, 480)


def page(host: str, path: str) -> Reply:
    number = int(path.rstrip("/").rsplit("/", 1)[-1])
    title, description = PAYLOADS[2 * number].text, PAYLOADS[2 * number + 1].text
    body = (
        "<html><head>"
        f'<meta property="og:title" content="{html.escape(title)}">'
        f'<meta property="og:description" content="{html.escape(description)}">'
        f'<meta property="og:site_name" content="{html.escape(title)}">'
        '<meta property="og:image" content="/image.png">'
        "</head></html>"
    )
    return Reply(body=body.encode())


SERVER = PageServer().__enter__()
for n in range(len(PAYLOADS) // 2):
    SERVER.pages[f"/xss/{n}"] = page
SERVER.pages["/image.png"] = Reply(headers={"Content-Type": "image/png"}, body=IMAGE)
NETWORK = FakeNetwork()
NETWORK.add_site("news.example", SERVER)
safe_fetch.default_network = NETWORK.network()
