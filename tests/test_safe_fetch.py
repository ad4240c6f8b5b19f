"""The SSRF guard of link previews (infra.safe_fetch), against real local servers.

Names resolve through a fake DNS table; public-looking addresses are routed to servers on
127.0.0.1 by the connector, which fails the test on any other address: a refusal test
passes only because the guard refused before connecting, and nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import ipaddress
import shutil
import ssl
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings

from smartcampus_chat.infra import safe_fetch
from smartcampus_chat.infra.safe_fetch import FetchLimits, FetchPolicy, is_public_address
from tests.fetch_servers import (
    PUBLIC_A,
    PUBLIC_B,
    PUBLIC_V6,
    FakeNetwork,
    PageServer,
    Reply,
    certificate_for,
)

PAGE = b"<html><head><title>News</title></head><body>hello</body></html>"
LIMITS = FetchLimits(max_bytes=10_000, total_timeout=2.0, connect_timeout=1.0, read_timeout=0.5)


@pytest.fixture
def server() -> Iterator[PageServer]:
    with PageServer() as page_server:
        page_server.pages["/"] = Reply(body=PAGE)
        yield page_server


@pytest.fixture
def network(server: PageServer) -> FakeNetwork:
    net = FakeNetwork()
    net.add_site("news.example", server)
    net.dns["loopback.example"] = ["127.0.0.1"]
    net.dns["intranet.example"] = ["10.20.30.40"]
    net.dns["metadata.example"] = ["169.254.169.254"]
    net.dns["v6loop.example"] = ["::1"]
    # One public and one private address: the private one is refused even though the
    # public one comes first (a later connection attempt could pick the other).
    net.dns["mixed.example"] = [PUBLIC_A, "10.0.0.1"]
    return net


def get(
    network: FakeNetwork, url: str, tls_context: ssl.SSLContext | None = None, **kwargs: Any
) -> safe_fetch.Fetched:
    kwargs.setdefault("accept", ["text/html"])
    kwargs.setdefault("limits", LIMITS)
    kwargs.setdefault("policy", FetchPolicy())
    return safe_fetch.safe_get(url, network=network.network(tls_context), **kwargs)


def test_a_public_page_is_fetched_through_the_checked_address(
    network: FakeNetwork, server: PageServer
) -> None:
    fetched = get(network, "http://news.example/")
    assert fetched.body == PAGE
    assert fetched.url == "http://news.example/"
    assert fetched.content_type == "text/html"
    assert network.connections == [(PUBLIC_A, 80)]
    assert server.requests == [("news.example", "/")]
    assert network.lookups == ["news.example"]  # resolved once, never again


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://127.0.0.1:80/admin/",
        "http://10.0.0.5/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:169.254.169.254]/",
        "http://[fd00:ec2::254]/",
        "http://[fe80::1]/",
        "http://[2002:7f00:1::]/",  # 6to4 of 127.0.0.1
        "http://[64:ff9b::a00:1]/",  # NAT64 of 10.0.0.1
        "http://100.64.0.1/",
        "http://0.0.0.0/",
        "http://224.0.0.1/",
        "http://loopback.example/",
        "http://intranet.example/",
        "http://metadata.example/",
        "http://v6loop.example/",
        "http://mixed.example/",
    ],
)
def test_private_addresses_are_refused_before_connecting(network: FakeNetwork, url: str) -> None:
    with pytest.raises(safe_fetch.AddressNotAllowed):
        get(network, url)
    assert network.connections == []


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("file:///etc/passwd", safe_fetch.BadURL),
        ("gopher://news.example:70/_SET%20x", safe_fetch.BadURL),
        ("ftp://news.example/", safe_fetch.BadURL),
        ("javascript:alert(1)", safe_fetch.BadURL),
        ("//news.example/", safe_fetch.BadURL),
        ("http://user:pw@news.example/", safe_fetch.BadURL),
        ("http://news.example:6379/", safe_fetch.PortNotAllowed),
        ("http://news.example:99999/", safe_fetch.BadURL),
        ("http://127.1/", safe_fetch.BadURL),  # inet_aton forms never reach a resolver
        ("http://0x7f000001/", safe_fetch.BadURL),
        ("http://2130706433/", safe_fetch.BadURL),
        ("http://localhost/", safe_fetch.BadURL),  # one label: an intranet name
        ("http://news.example\\@127.0.0.1/", safe_fetch.BadURL),
        ("http://[fe80::1%25eth0]/", safe_fetch.BadURL),
        ("http://unknown.example/", safe_fetch.ResolutionFailed),
    ],
)
def test_urls_that_are_not_plain_http_are_refused(
    network: FakeNetwork, url: str, error: type[Exception]
) -> None:
    with pytest.raises(error):
        get(network, url)
    assert network.connections == []


def test_another_port_only_when_the_settings_allow_it(
    network: FakeNetwork, server: PageServer
) -> None:
    network.routes[(PUBLIC_A, 8080)] = server.port
    with pytest.raises(safe_fetch.PortNotAllowed):
        get(network, "http://news.example:8080/", policy=FetchPolicy.from_settings())
    with override_settings(SMARTCAMPUS_CHAT={"LINK_PREVIEW_PORTS": [80, 443, 8080]}):
        fetched = get(network, "http://news.example:8080/", policy=FetchPolicy.from_settings())
    assert fetched.body == PAGE
    assert server.requests == [("news.example:8080", "/")]


def test_deny_list_covers_the_domain_and_its_subdomains(
    network: FakeNetwork, server: PageServer
) -> None:
    network.add_site("www.tracker.example", server)
    network.add_site("nottracker.example", server)
    deny = {"LINK_PREVIEW_DENY_DOMAINS": ["Tracker.Example."]}
    with override_settings(SMARTCAMPUS_CHAT=deny):
        policy = FetchPolicy.from_settings()
        for url in (
            "http://tracker.example/",
            "http://www.tracker.example/",
            "http://WWW.TRACKER.EXAMPLE./",
        ):
            with pytest.raises(safe_fetch.DomainDenied):
                get(network, url, policy=policy)
        assert get(network, "http://nottracker.example/", policy=policy).body == PAGE
    assert network.connections == [(PUBLIC_A, 80)]


def redirect(location: str, status: int = 302) -> Reply:
    return Reply(status, {"Location": location}, b"")


def test_redirects_are_followed_and_each_hop_is_checked(
    network: FakeNetwork, server: PageServer
) -> None:
    network.add_site("cdn.example", server, address=PUBLIC_B)
    server.pages["/short"] = redirect("http://cdn.example/article", 301)
    server.pages["/article"] = Reply(body=PAGE)
    fetched = get(network, "http://news.example/short")
    assert fetched.url == "http://cdn.example/article"
    assert fetched.redirects == ["http://cdn.example/article"]
    assert network.connections == [(PUBLIC_A, 80), (PUBLIC_B, 80)]
    assert server.requests == [("news.example", "/short"), ("cdn.example", "/article")]


@pytest.mark.parametrize(
    "location",
    [
        "http://127.0.0.1/",
        "http://intranet.example/admin",
        "http://[::1]:80/",
        "http://169.254.169.254/latest/meta-data/iam/",
        "file:///etc/passwd",
        "gopher://127.0.0.1:6379/_FLUSHALL",
    ],
)
def test_a_redirect_to_a_private_target_is_refused(
    network: FakeNetwork, server: PageServer, location: str
) -> None:
    server.pages["/go"] = redirect(location)
    with pytest.raises((safe_fetch.AddressNotAllowed, safe_fetch.BadURL)):
        get(network, "http://news.example/go")
    assert network.connections == [(PUBLIC_A, 80)]  # the first hop only


def test_a_fourth_redirect_is_refused(network: FakeNetwork, server: PageServer) -> None:
    for n in range(5):
        server.pages[f"/r{n}"] = redirect(f"/r{n + 1}")
    server.pages["/r3"] = Reply(body=PAGE)
    assert get(network, "http://news.example/r0").url == "http://news.example/r3"
    server.pages["/r3"] = redirect("/r4")
    with pytest.raises(safe_fetch.TooManyRedirects):
        get(network, "http://news.example/r0")


def test_an_oversized_body_is_an_error_not_a_truncation(
    network: FakeNetwork, server: PageServer
) -> None:
    server.pages["/huge"] = Reply(size=10_000_000)  # no Content-Length: read until the limit
    server.pages["/declared"] = Reply(
        headers={"Content-Type": "text/html", "Content-Length": "20000"}, body=b"x" * 20000
    )
    server.pages["/exact"] = Reply(body=b"y" * LIMITS.max_bytes)
    with pytest.raises(safe_fetch.ResponseTooLarge):
        get(network, "http://news.example/huge")
    with pytest.raises(safe_fetch.ResponseTooLarge):
        get(network, "http://news.example/declared")
    assert len(get(network, "http://news.example/exact").body) == LIMITS.max_bytes


def test_a_slow_body_times_out(network: FakeNetwork, server: PageServer) -> None:
    # Each byte comes well within the read timeout: only the total deadline stops it.
    server.pages["/drip"] = Reply(body=b"x" * 100, drip=0.1)
    started = time.monotonic()
    with pytest.raises(safe_fetch.FetchTimeout):
        get(network, "http://news.example/drip")
    assert time.monotonic() - started < LIMITS.total_timeout + 1.0


def test_a_server_that_stops_sending_times_out(network: FakeNetwork, server: PageServer) -> None:
    server.pages["/stall"] = Reply(body=b"ab", drip=1.5)
    started = time.monotonic()
    with pytest.raises(safe_fetch.FetchTimeout):
        get(network, "http://news.example/stall")
    assert time.monotonic() - started < LIMITS.read_timeout + 1.0


@pytest.mark.parametrize(
    ("content_type", "accept", "ok"),
    [
        ("text/html; charset=utf-8", ["text/html"], True),
        ("TEXT/HTML", ["text/html"], True),
        ("application/xhtml+xml", ["text/html"], False),
        ("image/svg+xml", ["text/html"], False),
        ("application/octet-stream", ["image/"], False),
        ("image/png", ["image/"], True),
        ("", ["text/html"], False),
    ],
)
def test_the_content_type_must_be_accepted(
    network: FakeNetwork, server: PageServer, content_type: str, accept: list[str], ok: bool
) -> None:
    server.pages["/typed"] = Reply(headers={"Content-Type": content_type}, body=b"data")
    if ok:
        assert get(network, "http://news.example/typed", accept=accept).body == b"data"
    else:
        with pytest.raises(safe_fetch.BadContentType):
            get(network, "http://news.example/typed", accept=accept)


def test_a_non_ascii_path_is_sent_percent_encoded(network: FakeNetwork, server: PageServer) -> None:
    server.pages["/caf%C3%A9"] = Reply(body=PAGE)
    assert get(network, "http://news.example/café?q=%20x").body == PAGE
    assert server.requests == [("news.example", "/caf%C3%A9?q=%20x")]


def test_errors_and_charset(network: FakeNetwork, server: PageServer) -> None:
    server.pages["/latin"] = Reply(
        headers={"Content-Type": 'text/html; charset="iso-8859-1"'}, body=b"caf\xe9"
    )
    assert get(network, "http://news.example/latin").charset == "iso-8859-1"
    with pytest.raises(safe_fetch.BadStatus):
        get(network, "http://news.example/missing")
    server.pages["/nowhere"] = Reply(302, {}, b"")
    with pytest.raises(safe_fetch.BadStatus):
        get(network, "http://news.example/nowhere")


def test_a_closed_port_is_a_connect_failure(network: FakeNetwork, server: PageServer) -> None:
    server.httpd.server_close()
    with pytest.raises(safe_fetch.ConnectFailed):
        get(network, "http://news.example/")


def test_ipv6_public_literal_is_connected_to_as_given(
    network: FakeNetwork, server: PageServer
) -> None:
    network.routes[(PUBLIC_V6, 80)] = server.port
    assert get(network, f"http://[{PUBLIC_V6}]/").body == PAGE
    assert server.requests == [(f"[{PUBLIC_V6}]", "/")]


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_https_verifies_the_certificate_for_the_name_not_the_address(tmp_path: Path) -> None:
    with (
        certificate_for(["news.example"], tmp_path) as cert,
        PageServer(tls=cert.server) as tls_server,
    ):
        tls_server.pages["/"] = Reply(body=PAGE)
        network = FakeNetwork()
        network.add_site("news.example", tls_server)
        network.add_site("other.example", tls_server, address=PUBLIC_B)
        fetched = get(network, "https://news.example/", tls_context=cert.client)
        assert fetched.body == PAGE
        assert tls_server.requests == [("news.example", "/")]
        # The same server under a name its certificate does not carry: refused.
        with pytest.raises(safe_fetch.ConnectFailed, match=r"(?i)certificate"):
            get(network, "https://other.example/", tls_context=cert.client)
        # And a certificate nobody vouches for (the default context): refused too.
        with pytest.raises(safe_fetch.ConnectFailed):
            get(network, "https://news.example/")


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.215.14", True),
        ("2606:4700::1111", True),
        ("8.8.8.8", True),
        ("127.0.0.1", False),
        ("10.1.1.1", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("100.127.255.254", False),
        ("0.0.0.0", False),
        ("255.255.255.255", False),
        ("224.0.0.251", False),
        ("239.255.255.250", False),
        ("240.0.0.1", False),
        ("192.0.2.1", False),
        ("198.18.0.1", False),
        ("::", False),
        ("::1", False),
        ("::127.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("::ffff:8.8.8.8", True),
        ("fe80::1", False),
        ("fc00::1", False),
        ("fd00:ec2::254", False),
        ("fec0::1", False),
        ("ff02::1", False),
        ("2002:a00:1::", False),
        ("2002:808:808::", True),
        ("64:ff9b::7f00:1", False),
        ("64:ff9b::808:808", True),
        ("64:ff9b:1::1", False),
        ("2001::1", False),
        ("2001:db8::1", False),
    ],
)
def test_is_public_address(address: str, public: bool) -> None:
    assert is_public_address(ipaddress.ip_address(address)) is public
