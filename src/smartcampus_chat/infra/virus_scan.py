"""The upload scan hook, and a ClamAV adapter speaking clamd's ``INSTREAM`` protocol.

``ATTACHMENT_SCANNER`` names a callable ``scan(file) -> None`` that raises
:class:`~smartcampus_chat.exceptions.InfectedFile` to refuse a file; :func:`scan` runs it
(the upload service calls it before storing anything). The scan fails closed: a
scanner that cannot answer raises :class:`~smartcampus_chat.exceptions.ScanUnavailable`
(HTTP 503), and so does a scanner that crashes.

:func:`clamd_scan` is such a callable for ClamAV's daemon, written against clamd's
documented protocol (``man clamd``, "INSTREAM") rather than the unmaintained ``clamd``
package: ``zINSTREAM\\0``, then chunks each preceded by its length (4 bytes, network
order), then a zero length; clamd answers ``stream: OK``, ``stream: <name> FOUND`` or
``<reason> ERROR``, ending with ``\\0``.
"""

from __future__ import annotations

import logging
import socket
import struct
from typing import IO

from smartcampus_chat.conf import ChatSettings, app_settings
from smartcampus_chat.exceptions import ChatError, InfectedFile, ScanUnavailable

logger = logging.getLogger(__name__)

#: Bytes sent to clamd per chunk (read from the file one chunk at a time).
CHUNK_BYTES = 65536
#: Longest reply read from clamd.
MAX_REPLY = 4096


def scan(file: IO[bytes]) -> None:
    """Run ``ATTACHMENT_SCANNER`` on ``file`` (nothing when it is None), then rewind it."""
    scanner = app_settings.load(ChatSettings.ATTACHMENT_SCANNER)
    if scanner is None:
        return
    start = file.tell()
    try:
        scanner(file)
    except ChatError:
        raise
    except Exception as exc:
        logger.exception("The upload scanner %s failed", ChatSettings.ATTACHMENT_SCANNER.value())
        raise ScanUnavailable() from exc
    finally:
        file.seek(start)


def clamd_scan(file: IO[bytes]) -> None:
    """Scan ``file`` (from where it is) with the clamd at ``ATTACHMENT_CLAMD_ADDRESS``."""
    reply = instream(
        file, app_settings.ATTACHMENT_CLAMD_ADDRESS, app_settings.ATTACHMENT_CLAMD_TIMEOUT
    )
    verdict = reply.removeprefix("stream:").strip()
    if verdict == "OK":
        return
    if verdict.endswith(" FOUND"):
        logger.warning("clamd refused an upload: %s", verdict.removesuffix(" FOUND"))
        raise InfectedFile()
    logger.error("clamd could not scan an upload: %s", reply)
    raise ScanUnavailable()


def instream(file: IO[bytes], address: str, timeout: float) -> str:
    """Send ``file`` to clamd in ``INSTREAM`` chunks; its reply, as text.

    Raises :class:`ScanUnavailable` when clamd cannot be reached, stops reading (it closes
    the connection past its ``StreamMaxLength``) or does not answer within ``timeout``
    seconds at each step.
    """
    try:
        with _connect(address, timeout) as sock:
            sock.sendall(b"zINSTREAM\0")
            while chunk := file.read(CHUNK_BYTES):
                sock.sendall(struct.pack("!L", len(chunk)) + chunk)
            sock.sendall(struct.pack("!L", 0))
            return _read_reply(sock)
    except OSError as exc:  # refused, reset, broken pipe, timeout
        logger.error("clamd at %s cannot be used: %r", address, exc)
        raise ScanUnavailable() from exc


def _connect(address: str, timeout: float) -> socket.socket:
    if address.startswith("unix:"):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect(address.removeprefix("unix:"))
        except OSError:
            sock.close()
            raise
        return sock
    host, _, port = address.rpartition(":")
    return socket.create_connection((host.strip("[]"), int(port)), timeout=timeout)


def _read_reply(sock: socket.socket) -> str:
    reply = b""
    while b"\0" not in reply and len(reply) < MAX_REPLY:
        data = sock.recv(MAX_REPLY)
        if not data:
            break
        reply += data
    if not reply:
        raise ConnectionAbortedError("clamd closed the connection without a reply")
    return reply.split(b"\0", 1)[0].decode("utf-8", "replace").strip()
