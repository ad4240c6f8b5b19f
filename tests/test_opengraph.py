"""Parsing fetched pages for link previews (markup.opengraph): hostile HTML included."""

from __future__ import annotations

import time

import pytest

from smartcampus_chat.markup.opengraph import (
    MAX_DESCRIPTION,
    MAX_TITLE,
    PagePreview,
    parse_page,
)

URL = "https://news.example/articles/42?ref=chat"


def test_open_graph_wins_over_twitter_and_the_title_tag() -> None:
    page = b"""<!doctype html><html><head>
    <title>Tag title</title>
    <meta name="description" content="Meta description">
    <meta name="twitter:title" content="Twitter title">
    <meta property="og:title" content="  Robotics lab\n\t opens   today ">
    <meta property="og:description" content="Photos &amp; videos from the &lt;lab&gt;">
    <meta property="og:site_name" content="Campus News">
    <meta property="og:image" content="/img/lab.jpg">
    </head><body><meta property="og:title" content="Second og:title"></body></html>"""
    assert parse_page(page, URL) == PagePreview(
        title="Robotics lab opens today",
        description="Photos & videos from the <lab>",
        site_name="Campus News",
        image_url="https://news.example/img/lab.jpg",
    )


def test_fallbacks_title_tag_and_meta_description() -> None:
    page = b"<title>\n  Plain   page\n</title><meta name=DESCRIPTION content='About it'>"
    preview = parse_page(page, URL)
    assert (preview.title, preview.description, preview.site_name, preview.image_url) == (
        "Plain page",
        "About it",
        "",
        None,
    )
    twitter = b'<meta name="twitter:image" content="https://cdn.example/t.png"><title>T</title>'
    assert parse_page(twitter, URL).image_url == "https://cdn.example/t.png"
    assert parse_page(b"<p>nothing</p>", URL).is_empty()


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("javascript:alert(1)", None),
        ("  JaVaScRiPt:alert(1)", None),
        ("java\tscript:alert(1)", None),
        ("data:image/png;base64,iVBORw0KGgo=", None),
        ("vbscript:msgbox", None),
        ("file:///etc/passwd", None),
        ("//cdn.example/a.png", "https://cdn.example/a.png"),
        ("../b.png", "https://news.example/b.png"),
        ("https://cdn.example/" + "a" * 3000 + ".png", None),
        ("http://", None),
    ],
)
def test_only_http_image_urls_survive(image: str, expected: str | None) -> None:
    page = f'<meta property="og:image" content="{image}">'.encode()
    assert parse_page(page, URL).image_url == expected


def test_scripts_and_styles_are_never_text_and_nothing_runs() -> None:
    page = b"""<head><script>document.title = "<title>evil</title>"; fetch('/x')</script>
    <style>title { content: "<title>css</title>" }</style>
    <title>Real <b>bold</b> title</title>
    <meta property="og:description" content="<script>alert(1)</script><img src=x onerror=alert(1)>">
    </head>"""
    preview = parse_page(page, URL)
    assert preview.title == "Real bold title"
    # Kept as text: whoever shows it must escape it (the browser client sets textContent).
    assert preview.description == "<script>alert(1)</script><img src=x onerror=alert(1)>"


def test_control_and_bidi_characters_are_dropped_and_lengths_capped() -> None:
    title = "Invoice\u202egnp.exe\x00\x07 " + "word " * 200
    page = (
        f'<meta property="og:title" content="{title}">'
        f'<meta property="og:description" content="{"d" * 5000}">'
    )
    preview = parse_page(page.encode(), URL)
    assert preview.title.startswith("Invoicegnp.exe word")
    assert len(preview.title) == MAX_TITLE
    assert preview.title.endswith("…")
    assert len(preview.description) == MAX_DESCRIPTION


@pytest.mark.parametrize(
    "page",
    [
        b"<title>Broken <meta property=og:title content='Unclosed",
        b"<<<>>><title>x</tit",
        b'<meta property="og:title" content="a\x00b">',
        b"<!-- <title>comment</title> --><title>ok</title>",
        b"<![CDATA[ <title>cdata</title> ]]><title>ok</title>",
        b"<meta property='og:image' content='" + b"x" * 1_000_000 + b"'>",
        b"<title>" + b"<b>" * 100_000,
        b"<!--" * 100_000,
        b"<![" * 100_000,  # html.parser asserted on this before Python 3.13.4
        b"<a\n" * 100_000,
        b"<" * 300_000,
        b"<a " + b"b=c " * 100_000,
        b"\xff\xfe\x00\x00garbage\x80\x81",
    ],
)
def test_broken_and_huge_markup_is_parsed_quickly_without_errors(page: bytes) -> None:
    started = time.monotonic()
    preview = parse_page(page, URL)
    assert time.monotonic() - started < 2.0
    assert len(preview.title) <= MAX_TITLE
    assert len(preview.description) <= MAX_DESCRIPTION
    assert "comment" not in preview.title
    assert "cdata" not in preview.title


def test_charsets_from_the_header_then_the_page_then_utf8() -> None:
    latin = '<meta charset="iso-8859-1"><title>Café</title>'.encode("latin-1")
    assert parse_page(latin, URL).title == "Café"
    assert parse_page("<title>Café</title>".encode("cp1252"), URL, "windows-1252").title == "Café"
    assert parse_page("<title>Café</title>".encode(), URL, "no-such-charset").title == "Café"
    assert parse_page(b"<title>Caf\xe9</title>", URL).title == "Caf\ufffd"


def test_only_the_start_of_a_page_is_parsed() -> None:
    late = b"<p>" + b"x" * 2_000_000 + b'</p><meta property="og:title" content="too late">'
    assert parse_page(late, URL).title == ""
