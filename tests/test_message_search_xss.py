"""The XSS corpus through search snippets: whatever a message says, a snippet is its text,
escaped, with ``<mark>`` the only element; through the snippet builder for every payload
and every way of highlighting it, and through the real search for a sample."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest

from smartcampus_chat import queries
from smartcampus_chat.domain.message_search import parse_search, words
from smartcampus_chat.markup import plain_text, render
from smartcampus_chat.markup.snippets import snippet_html
from smartcampus_chat.models import ChatMessage, ChatRoom
from tests.xss_corpus import PAYLOADS


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []
        self.other: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def handle_comment(self, data: str) -> None:
        self.other.append(f"comment {data!r}")

    def handle_decl(self, decl: str) -> None:
        self.other.append(f"declaration {decl!r}")

    def handle_pi(self, data: str) -> None:
        self.other.append(f"processing instruction {data!r}")


def audit(snippet: str, text: str) -> None:
    parser = _Elements()
    parser.feed(snippet)
    parser.close()
    assert not parser.other, snippet
    assert all(tag == "mark" and not attrs for tag, attrs in parser.elements), snippet
    # The text a browser shows is a window of the message's text: escaped once, not lost.
    assert "".join(parser.text).strip("…") in text, snippet


def test_every_payload_as_a_snippet_is_text_and_marks() -> None:
    for payload in PAYLOADS:
        text = plain_text(render(payload.text))
        searched = words(payload.text)
        for highlighted in (searched, searched[:1], ("xss",), ("script", "img", "on"), ()):
            audit(snippet_html(text, highlighted), text)
        # The raw source too, as if a message were shown unrendered.
        audit(snippet_html(payload.text, searched), payload.text)


@pytest.mark.django_db
def test_payloads_found_by_the_search_come_back_as_text_and_marks(
    alice: Any, public_room: ChatRoom
) -> None:
    sample = PAYLOADS[::7]
    ChatMessage.objects.bulk_create(
        ChatMessage(
            room=public_room,
            sender=alice,
            content=p.text,
            content_html=render(p.text),
            seq=n + 1,
            event_seq=n + 1,
        )
        for n, p in enumerate(sample)
    )
    by_id = {m.pk: m for m in ChatMessage.objects.filter(room=public_room)}
    seen = 0
    cursor = None
    while True:
        page = queries.search_messages(
            alice, parse_search("xss", order="newest"), cursor=cursor, limit=50
        )
        for hit in page.hits:
            text = plain_text(by_id[hit.message.pk].content_html)
            audit(hit.snippet_html, text)
            # The source matched; the word may be only in a link's address, not shown.
            assert ("<mark>" in hit.snippet_html) == ("xss" in words(text)[:40]), text
        seen += len(page.hits)
        cursor = page.next_cursor
        if cursor is None:
            break
    # Engines cut "__xss(1)" or "xss-1.invalid" into words their own way, and encoded
    # payloads hold no "xss": most, not all, of the sample is found.
    assert len(sample) // 2 < seen <= len(sample)
