"""An HTTP(S) GET for URLs chosen by users (link previews), guarded against SSRF.

A URL in a message can name anything the server can reach: the cloud metadata service
(169.254.169.254), the database, an admin page on localhost, a host on the campus network.
The guard (docs/security.md, "Link previews"):

- only ``http`` and ``https``, only the ports of ``LINK_PREVIEW_PORTS``, no credentials
  in the URL, a host that is a plain DNS name or an IP literal;
- a host on ``LINK_PREVIEW_DENY_DOMAINS`` (or under one) is refused;
- the name is resolved **once**; every address it resolves to must be globally routable
  (:func:`is_public_address`), else the fetch is refused; the connection then goes to
  that checked address, never through a second resolution (DNS rebinding), with the
  name in the ``Host`` header and, for https, as the TLS server name whose certificate
  is verified;
- redirects are followed by hand, at most :data:`MAX_REDIRECTS`, each hop checked as
  above;
- the body is read up to ``max_bytes`` (more is an error, not a truncation), the whole
  fetch within ``total_timeout`` seconds (each connect and read within its own timeout
  too), and the content type must be one the caller accepts.

Each refusal is its own :class:`FetchError` subclass with a ``code`` for logs and tests.
The resolver and the connector are parameters so tests can map a public-looking name to a
server on 127.0.0.1 while the guard itself runs unchanged.
"""

from __future__ import annotations

import http.client
import io
import ipaddress
import re
import socket
import ssl
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

from smartcampus_chat.conf import app_settings

#: Redirects followed at most (a fourth is refused).
MAX_REDIRECTS = 3
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
#: The User-Agent of every fetch: a site can recognise (and refuse) the preview bot.
USER_AGENT = "smartcampus-chat-link-preview/1.0 (+https://github.com/smartcampus/smartcampus-chat)"
_CHUNK = 16384
#: What a request path keeps unencoded: the URL's reserved and unreserved characters, and
#: "%" (escapes already there).
_PATH_SAFE = "/?#[]@!$&'()*+,;=:%~-._"
_LABEL = re.compile(r"[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?", re.ASCII)
_NUMERIC_LABEL = re.compile(r"[0-9]+|0x[0-9a-f]*", re.ASCII)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
#: ``(host, port) -> addresses``: resolves a DNS name (never an IP literal) once.
Resolver = Callable[[str, int], Sequence[str]]
#: ``(address, port, timeout) -> a connected socket`` to that very address.
Connector = Callable[[str, int, float], socket.socket]


class FetchError(Exception):
    """A fetch was refused or failed; ``code`` names why (for logs and tests)."""

    code = "fetch_failed"


class BadURL(FetchError):
    """Not an absolute http(s) URL with a plain host (scheme, credentials, host syntax)."""

    code = "bad_url"


class PortNotAllowed(FetchError):
    code = "port_not_allowed"


class DomainDenied(FetchError):
    """The host is on ``LINK_PREVIEW_DENY_DOMAINS`` or under one of them."""

    code = "domain_denied"


class ResolutionFailed(FetchError):
    code = "resolution_failed"


class AddressNotAllowed(FetchError):
    """The host is, or resolves to, an address that is not globally routable."""

    code = "address_not_allowed"


class TooManyRedirects(FetchError):
    code = "too_many_redirects"


class BadStatus(FetchError):
    """An answer that is neither 200 nor a redirect with a Location."""

    code = "bad_status"


class BadContentType(FetchError):
    code = "bad_content_type"


class ResponseTooLarge(FetchError):
    code = "response_too_large"


class FetchTimeout(FetchError):
    code = "timeout"


class ConnectFailed(FetchError):
    """No connection, a TLS failure (certificate, name) or a malformed HTTP answer."""

    code = "connect_failed"


# Ranges ipaddress does not flag in every Python version (3.10 to 3.13 differ), refused
# outright: IPv4-compatible IPv6 (deprecated ::a.b.c.d), local-use NAT64, Teredo,
# documentation, benchmarking, the IETF protocol block, the "this network" block.
_REFUSED_NETWORKS = tuple(
    ipaddress.ip_network(net)
    for net in (
        "0.0.0.0/8",
        "100.64.0.0/10",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "240.0.0.0/4",
        "::/96",
        "64:ff9b:1::/48",
        "2001::/32",
        "2001:db8::/32",
        "fc00::/7",
        "fec0::/10",
    )
)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def is_public_address(address: IPAddress) -> bool:
    """Whether ``address`` is globally routable: not private, loopback, link-local (the
    metadata service), multicast, reserved, unspecified, shared (CGNAT), unique-local, nor
    an IPv6 form (mapped, 6to4, NAT64) of such an IPv4 address."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return is_public_address(embedded)
    if (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    ):
        return False
    return not any(address in net for net in _REFUSED_NETWORKS if net.version == address.version)


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for (mapped ::ffff:a.b.c.d, 6to4, NAT64)."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def parse_address(text: str) -> IPAddress | None:
    """``text`` as an IP address (a zone id such as ``%eth0`` dropped), else None."""
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses of ``host`` from the system's resolver (``socket.getaddrinfo``)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def system_connector(address: str, port: int, timeout: float) -> socket.socket:
    """A TCP connection to ``address`` (an IP: nothing is resolved here)."""
    return socket.create_connection((address, port), timeout=timeout)


@dataclass(frozen=True)
class Network:
    """How names are resolved and addresses reached: the system's, or (tests) a fake one.
    ``tls_context``: None for the system's verified default."""

    resolver: Resolver = system_resolver
    connector: Connector = system_connector
    tls_context: ssl.SSLContext | None = None


#: The network fetches use when given none; read at each call, so a test can replace it
#: (``monkeypatch.setattr(safe_fetch, "default_network", ...)``) for code that fetches in
#: the background.
default_network = Network()


@dataclass(frozen=True)
class FetchLimits:
    """How much one fetch may cost: bytes of the final body and seconds."""

    max_bytes: int
    #: The whole fetch, redirects included.
    total_timeout: float
    connect_timeout: float = 3.0
    #: Each wait for data (a server that stops sending).
    read_timeout: float = 3.0


@dataclass(frozen=True)
class FetchPolicy:
    """Where a fetch may go; :meth:`from_settings` reads the site's settings."""

    ports: frozenset[int] = frozenset({80, 443})
    deny_domains: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls) -> FetchPolicy:
        return cls(
            ports=frozenset(app_settings.LINK_PREVIEW_PORTS),
            deny_domains=normalise_domains(app_settings.LINK_PREVIEW_DENY_DOMAINS),
        )

    def denies(self, host: str) -> bool:
        host = host.rstrip(".")
        return any(host == domain or host.endswith("." + domain) for domain in self.deny_domains)


def normalise_domains(domains: Iterable[str]) -> tuple[str, ...]:
    """Deny-list entries as hosts are compared: lower case, IDNA, no dots at the ends."""
    return tuple(_idna(domain.strip().strip(".").lower()) for domain in domains if domain.strip())


@dataclass(frozen=True)
class Fetched:
    """A successful fetch: the URL that answered (after redirects) and its body."""

    url: str
    content_type: str
    charset: str | None
    body: bytes
    redirects: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Target:
    scheme: str
    host: str  # IDNA, lower case, no brackets
    port: int
    path: str  # path and query, never empty


def safe_get(
    url: str,
    *,
    accept: Sequence[str],
    limits: FetchLimits,
    policy: FetchPolicy | None = None,
    network: Network | None = None,
) -> Fetched:
    """GET ``url`` through the SSRF guard (module docstring); raises a :class:`FetchError`.

    ``accept``: content types taken, each a full type (``text/html``) or a prefix ending
    in ``/`` (``image/``). ``network``: :data:`default_network` when None.
    """
    policy = policy or FetchPolicy.from_settings()
    network = network or default_network
    resolver, connector = network.resolver, network.connector
    context = network.tls_context or ssl.create_default_context()
    deadline = time.monotonic() + limits.total_timeout
    redirects: list[str] = []
    while True:
        target = check_url(url, policy)
        address = _checked_address(target, resolver)
        status, headers, body = _request(target, address, limits, deadline, connector, context)
        if status in REDIRECT_STATUSES:
            location = headers.get("location")
            if not location:
                raise BadStatus(f"redirect without Location from {url}")
            if len(redirects) == MAX_REDIRECTS:
                raise TooManyRedirects(f"more than {MAX_REDIRECTS} redirects from {url}")
            url = urljoin(url, location.strip())
            redirects.append(url)
            continue
        if status != 200:
            raise BadStatus(f"{url} answered {status}")
        content_type, charset = _content_type(headers.get("content-type", ""))
        if not _accepted(content_type, accept):
            raise BadContentType(f"{url} is {content_type or 'untyped'}")
        assert body is not None
        return Fetched(url, content_type, charset, body, redirects)


def check_url(url: str, policy: FetchPolicy) -> _Target:
    """The parts of ``url`` if it may be fetched at all (before any resolution)."""
    if not isinstance(url, str) or len(url) > 2048 or any(c in url for c in "\r\n\t\\ \x00"):
        raise BadURL("not a plain URL")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise BadURL(str(exc)) from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise BadURL(f"scheme {scheme or 'missing'} is not http(s)")
    if parts.username is not None or parts.password is not None:
        raise BadURL("credentials in the URL")
    raw_host = parts.hostname or ""
    if not raw_host:
        raise BadURL("no host")
    port = port if port is not None else (443 if scheme == "https" else 80)
    if port not in policy.ports:
        raise PortNotAllowed(f"port {port}")
    literal = parse_address(raw_host)
    if literal is not None:
        if "%" in raw_host:
            raise BadURL("zone id in the host")
        host = str(literal)
    else:
        host = _idna(raw_host)
        if not _is_dns_name(host):
            raise BadURL(f"host {raw_host!r} is not a DNS name")
        if policy.denies(host):
            raise DomainDenied(host)
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    # Non-ASCII characters percent-encoded (UTF-8), as browsers send them; the rest as is.
    return _Target(scheme, host, port, quote(path, safe=_PATH_SAFE))


def _is_dns_name(host: str) -> bool:
    """A name with a dot, of letter-digit-hyphen labels, whose last label is not a number
    (``127.1``, ``0x7f000001``: IPv4 in forms resolvers accept never reach one)."""
    labels = host.removesuffix(".").split(".")
    return (
        len(host) <= 253
        and len(labels) >= 2
        and all(_LABEL.fullmatch(label) for label in labels)
        and not _NUMERIC_LABEL.fullmatch(labels[-1])
    )


def _idna(host: str) -> str:
    try:
        return host.encode("idna").decode("ascii").lower()
    except UnicodeError as exc:
        raise BadURL(f"host {host!r} is not a valid name") from exc


def _checked_address(target: _Target, resolver: Resolver) -> str:
    """The one address to connect to: the literal, or the first of the resolved ones once
    every one of them is public (a name resolving to one private address is refused)."""
    literal = parse_address(target.host)
    if literal is not None:
        addresses = [literal]
    else:
        try:
            resolved = list(resolver(target.host.rstrip("."), target.port))
        except (OSError, UnicodeError) as exc:
            raise ResolutionFailed(f"{target.host}: {exc}") from exc
        parsed = [parse_address(a) for a in resolved]
        if not parsed or any(a is None for a in parsed):
            raise ResolutionFailed(f"{target.host} resolved to {resolved!r}")
        addresses = [a for a in parsed if a is not None]
    for address in addresses:
        if not is_public_address(address):
            raise AddressNotAllowed(f"{target.host} is {address}")
    return str(addresses[0])


class _DeadlineReader(io.RawIOBase):
    """The socket's bytes, each wait bounded by the read timeout and the fetch's deadline."""

    def __init__(self, sock: socket.socket, deadline: float, read_timeout: float) -> None:
        super().__init__()
        self._sock = sock
        self._deadline = deadline
        self._read_timeout = read_timeout

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise FetchTimeout("the fetch took too long")
        self._sock.settimeout(min(self._read_timeout, remaining))
        try:
            return self._sock.recv_into(buffer)
        except TimeoutError as exc:  # socket.timeout is TimeoutError from 3.10
            raise FetchTimeout("the server stopped sending") from exc


class _GuardedSocket:
    """What http.client needs of a socket, reading through :class:`_DeadlineReader`."""

    def __init__(self, sock: socket.socket, deadline: float, read_timeout: float) -> None:
        self._sock = sock
        self._reader = _DeadlineReader(sock, deadline, read_timeout)

    def sendall(self, data: bytes) -> None:
        self._sock.sendall(data)

    def makefile(self, mode: str, *args: Any, **kwargs: Any) -> io.BufferedReader:
        return io.BufferedReader(self._reader)

    def close(self) -> None:
        """Nothing: http.client closes the connection as soon as it has read the headers
        of a ``Connection: close`` answer, before the body (a real socket lives on in its
        file); :func:`_request` closes the socket when it is done."""


class _PinnedConnection(http.client.HTTPConnection):
    """An HTTP connection to an address checked beforehand, named ``host`` (Host header,
    TLS server name and certificate check), that never resolves anything itself."""

    def __init__(
        self,
        target: _Target,
        address: str,
        *,
        deadline: float,
        limits: FetchLimits,
        connector: Connector,
        tls_context: ssl.SSLContext | None,
    ) -> None:
        super().__init__(target.host.rstrip("."), target.port, timeout=limits.connect_timeout)
        # The Host header names the port only when it is not the scheme's.
        self.default_port = 443 if target.scheme == "https" else 80
        self._address = address
        self._deadline = deadline
        self._limits = limits
        self._connector = connector
        self._tls_context = tls_context
        self.raw_socket: socket.socket | None = None

    def connect(self) -> None:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise FetchTimeout("the fetch took too long")
        timeout = min(self._limits.connect_timeout, remaining)
        sock = self._connector(self._address, self.port, timeout)
        if self._tls_context is not None:
            sock.settimeout(timeout)
            try:
                sock = self._tls_context.wrap_socket(sock, server_hostname=self.host)
            except BaseException:
                sock.close()
                raise
        self.raw_socket = sock
        self.sock = _GuardedSocket(sock, self._deadline, self._limits.read_timeout)


def _request(
    target: _Target,
    address: str,
    limits: FetchLimits,
    deadline: float,
    connector: Connector,
    tls_context: ssl.SSLContext,
) -> tuple[int, dict[str, str], bytes | None]:
    """One GET: the status, the headers (lower-case names) and, for a 200, the body."""
    connection = _PinnedConnection(
        target,
        address,
        deadline=deadline,
        limits=limits,
        connector=connector,
        tls_context=tls_context if target.scheme == "https" else None,
    )
    try:
        connection.putrequest("GET", target.path, skip_accept_encoding=True)
        connection.putheader("User-Agent", USER_AGENT)
        connection.putheader("Accept-Encoding", "identity")
        connection.putheader("Connection", "close")
        connection.endheaders()
        response = connection.getresponse()
        headers = {name.lower(): value for name, value in response.getheaders()}
        if response.status != 200:
            return response.status, headers, None
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limits.max_bytes:
            raise ResponseTooLarge(f"Content-Length {declared} > {limits.max_bytes}")
        body = _read_bounded(response, limits.max_bytes)
        return response.status, headers, body
    except FetchError:
        raise
    except TimeoutError as exc:
        raise FetchTimeout(f"{target.host}: {exc}") from exc
    except (OSError, http.client.HTTPException, ValueError) as exc:
        raise ConnectFailed(f"{target.host}: {exc!r}") from exc
    finally:
        connection.close()
        if connection.raw_socket is not None:
            connection.raw_socket.close()


def _read_bounded(response: http.client.HTTPResponse, max_bytes: int) -> bytes:
    body = bytearray()
    while chunk := response.read(_CHUNK):
        body += chunk
        if len(body) > max_bytes:
            raise ResponseTooLarge(f"more than {max_bytes} bytes")
    return bytes(body)


def _content_type(header: str) -> tuple[str, str | None]:
    main, _, params = header.partition(";")
    charset = None
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"') or None
    return main.strip().lower(), charset


def _accepted(content_type: str, accept: Sequence[str]) -> bool:
    return any(
        content_type.startswith(kind) if kind.endswith("/") else content_type == kind
        for kind in accept
    )
