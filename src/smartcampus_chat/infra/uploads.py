"""Reading an upload without trusting its size: a Django upload handler that stops the
request body at a limit, so a file larger than ``ATTACHMENT_MAX_BYTES`` is refused once
that many bytes have arrived (not after the whole of it has been written to disk), even
when the client sent no ``Content-Length``.

Files are written to a temporary file by Django's own handlers (memory stays bounded);
this handler only counts.
"""

from __future__ import annotations

from typing import Any

from django.core.files.uploadhandler import FileUploadHandler, StopUpload


class LimitedUploadHandler(FileUploadHandler):
    """Counts the bytes of every file in the request; past ``limit`` the upload stops and
    :attr:`exceeded` is set (the view then answers 413)."""

    def __init__(self, limit: int, request: Any = None) -> None:
        super().__init__(request)
        self.limit = limit
        self.received = 0
        self.exceeded = False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received += len(raw_data)
        if self.received > self.limit:
            self.exceeded = True
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


def limit_uploads(request: Any, limit: int) -> LimitedUploadHandler:
    """Install a :class:`LimitedUploadHandler` first on ``request`` (a Django
    ``HttpRequest``, before its body is read); the handler, to ask if it stopped."""
    handler = LimitedUploadHandler(limit, request)
    request.upload_handlers.insert(0, handler)
    return handler
