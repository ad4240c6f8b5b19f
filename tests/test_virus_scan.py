"""The upload scan hook and its ClamAV adapter, against a fake clamd on real sockets."""

from __future__ import annotations

import io
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest
from django.test import override_settings

from smartcampus_chat import checks as chat_checks
from smartcampus_chat.exceptions import InfectedFile, ScanUnavailable, ServiceUnavailable
from smartcampus_chat.infra import virus_scan
from tests.fake_clamd import EICAR, FakeClamd

CLAMD = "smartcampus_chat.infra.virus_scan.clamd_scan"


@pytest.fixture
def clamd() -> Iterator[FakeClamd]:
    with FakeClamd() as daemon:
        yield daemon


def settings_for(daemon: FakeClamd | str, **more: Any) -> Any:
    address = daemon if isinstance(daemon, str) else daemon.address
    return override_settings(
        SMARTCAMPUS_CHAT={"ATTACHMENT_SCANNER": CLAMD, "ATTACHMENT_CLAMD_ADDRESS": address, **more}
    )


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_clean_file_passes_streamed_in_chunks_and_is_rewound(clamd: FakeClamd) -> None:
    upload = io.BytesIO(b"%PDF-1.7 slides " * 10_000)  # 160000 bytes
    with settings_for(clamd):
        virus_scan.scan(upload)
    assert clamd.chunks == [[65536, 65536, 28928]]
    assert clamd.errors == []
    assert upload.tell() == 0


@pytest.mark.parametrize("offset", [0, 65536 - 20, 100_000])
def test_an_infected_file_is_refused(clamd: FakeClamd, offset: int) -> None:
    # At the start, across a chunk boundary, in a later chunk: the framing keeps the bytes
    # in order, so the daemon sees the whole signature wherever it falls.
    upload = io.BytesIO(b"\0" * offset + EICAR + b"\0" * 1000)
    with settings_for(clamd), pytest.raises(InfectedFile) as caught:
        virus_scan.scan(upload)
    assert (caught.value.code, caught.value.status) == ("infected_file", 422)
    assert clamd.errors == []


def test_scanning_starts_where_the_file_is(clamd: FakeClamd) -> None:
    upload = io.BytesIO(EICAR + b"clean part")
    upload.seek(len(EICAR))
    with settings_for(clamd):
        virus_scan.scan(upload)
    assert upload.tell() == len(EICAR)
    assert clamd.chunks == [[10]]


def test_a_daemon_that_is_down_refuses_the_upload() -> None:
    with settings_for(f"127.0.0.1:{closed_port()}"), pytest.raises(ScanUnavailable) as caught:
        virus_scan.scan(io.BytesIO(b"anything"))
    assert (caught.value.code, caught.value.status) == ("scan_unavailable", 503)
    assert isinstance(caught.value, ServiceUnavailable)
    assert caught.value.retry_after


def test_a_daemon_that_does_not_answer_times_out(clamd: FakeClamd) -> None:
    clamd.silent = True
    started = time.monotonic()
    with settings_for(clamd, ATTACHMENT_CLAMD_TIMEOUT=0.3), pytest.raises(ScanUnavailable):
        virus_scan.scan(io.BytesIO(b"anything"))
    assert time.monotonic() - started < 2


def test_a_file_over_the_daemons_limit_is_refused_not_passed() -> None:
    with (
        FakeClamd(max_length=100_000) as daemon,
        settings_for(daemon),
        pytest.raises(ScanUnavailable),
    ):
        virus_scan.scan(io.BytesIO(b"x" * 1_000_000))


def test_a_unix_socket_daemon() -> None:
    # A short path: unix socket paths are limited to about 100 bytes.
    with tempfile.TemporaryDirectory(prefix="clamd") as directory:
        path = Path(directory) / "clamd.ctl"
        with FakeClamd(unix_path=path) as daemon, settings_for(daemon):
            virus_scan.scan(io.BytesIO(b"clean"))
            with pytest.raises(InfectedFile):
                virus_scan.scan(io.BytesIO(EICAR))
        assert daemon.chunks == [[5], [len(EICAR)]]


def test_an_unanswered_reply_or_a_garbled_one_is_unavailable(clamd: FakeClamd) -> None:
    with pytest.raises(ScanUnavailable):
        virus_scan.instream(io.BytesIO(b"x"), f"127.0.0.1:{closed_port()}", 1.0)
    assert virus_scan.instream(io.BytesIO(b"x"), clamd.address, 1.0) == "stream: OK"


def no_scanner_needed(file: IO[bytes]) -> None:
    file.read()


def crashing_scanner(file: IO[bytes]) -> None:
    raise RuntimeError("scanner bug")


def refusing_scanner(file: IO[bytes]) -> None:
    raise InfectedFile()


def scanner(name: str) -> Any:
    return override_settings(SMARTCAMPUS_CHAT={"ATTACHMENT_SCANNER": f"{__name__}.{name}"})


def test_any_callable_can_be_the_scanner_and_a_crash_fails_closed() -> None:
    upload = io.BytesIO(b"data")
    virus_scan.scan(upload)  # no scanner configured: nothing happens
    with scanner("no_scanner_needed"):
        virus_scan.scan(upload)
        assert upload.tell() == 0
    with scanner("crashing_scanner"), pytest.raises(ScanUnavailable):
        virus_scan.scan(upload)
    with scanner("refusing_scanner"), pytest.raises(InfectedFile):
        virus_scan.scan(upload)


@pytest.mark.parametrize(
    ("chat_settings", "expected"),
    [
        ({"ATTACHMENT_SCANNER": "no.such.scanner"}, "smartcampus_chat.E003"),
        ({"ATTACHMENT_CLAMD_ADDRESS": "localhost"}, "smartcampus_chat.E002"),
        ({"ATTACHMENT_CLAMD_ADDRESS": "clamd:99999"}, "smartcampus_chat.E002"),
        ({"ATTACHMENT_CLAMD_TIMEOUT": 0}, "smartcampus_chat.E002"),
        ({"LINK_PREVIEW_PORTS": []}, "smartcampus_chat.E002"),
        ({"LINK_PREVIEW_PORTS": [80, 70000]}, "smartcampus_chat.E002"),
        ({"LINK_PREVIEW_DENY_DOMAINS": "intranet.example"}, "smartcampus_chat.E002"),
    ],
)
def test_bad_settings_are_reported(chat_settings: dict[str, Any], expected: str) -> None:
    with override_settings(SMARTCAMPUS_CHAT=chat_settings):
        assert expected in {message.id for message in chat_checks.check_settings()}


@pytest.mark.parametrize(
    "address", ["127.0.0.1:3310", "clamav.internal:3310", "[::1]:3310", "unix:/run/clamd.ctl"]
)
def test_good_clamd_addresses_pass_their_check(address: str) -> None:
    with override_settings(SMARTCAMPUS_CHAT={"ATTACHMENT_CLAMD_ADDRESS": address}):
        assert chat_checks.check_settings() == []
