"""The XSS corpus of the browser test (tests/browser/test_xss.py): its promises, checked
without a browser."""

from __future__ import annotations

import re

from tests.xss_corpus import PAYLOADS, build, counts


def test_at_least_a_thousand_distinct_payloads_in_every_class() -> None:
    assert len(PAYLOADS) >= 1000
    assert len({p.text for p in PAYLOADS}) == len(PAYLOADS)
    kinds = counts()
    assert set(kinds) == {
        "tag",
        "attribute",
        "url",
        "encoding",
        "breakout",
        "markdown",
        "clobbering",
        "template",
        "polyglot",
    }
    assert min(kinds.values()) >= 50


def test_deterministic() -> None:
    assert build() == PAYLOADS


def test_each_payload_names_only_itself() -> None:
    for payload in PAYLOADS:
        numbers = set(re.findall(r"__xss\((\d+)\)|xss-(\d+)\.invalid|data-xss=(\d+)", payload.text))
        named = {n for group in numbers for n in group if n}
        assert named <= {str(payload.number)}, payload


def test_stored_as_is() -> None:
    for payload in PAYLOADS:
        assert payload.text == payload.text.strip()
        assert "\x00" not in payload.text
        assert "\r" not in payload.text
