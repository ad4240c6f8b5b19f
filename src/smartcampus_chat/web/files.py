"""Stored files as HTTP responses: the one place their headers are decided.

Every file the chat serves (attachments, thumbnails, and any later stored file) leaves
through :func:`file_response`, after the caller checked the reader's access:

- ``Content-Disposition``: ``inline`` only for raster images and PDF, ``attachment``
  for everything else (and on request), with the uploader's name as ``filename*``
  (RFC 6266/5987, so any name survives and none can inject a header);
- ``X-Content-Type-Options: nosniff`` and ``Content-Security-Policy: sandbox;
  default-src 'none'``: even a file that would be markup runs nothing, reaches nothing,
  and has an opaque origin;
- ``Cache-Control: private, no-cache`` with an ``ETag``: a browser may keep a copy but
  asks again (and is refused once the reader lost access) before showing it.

``ATTACHMENT_SERVE`` hands the bytes to the proxy (``X-Accel-Redirect`` for nginx,
``X-Sendfile`` for Apache/lighttpd) after the check; docs/deployment.md shows the
proxy's side.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    StreamingHttpResponse,
)
from django.utils.http import content_disposition_header

from smartcampus_chat.conf import app_settings
from smartcampus_chat.domain.attachments import shown_inline
from smartcampus_chat.infra import file_store

#: The headers of every file response (besides type, disposition and caching).
FILE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "sandbox; default-src 'none'",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def file_response(
    request: HttpRequest,
    *,
    storage_name: str,
    content_type: str,
    filename: str,
    etag: str,
    download: bool = False,
) -> HttpResponseBase:
    """The response serving the stored file ``storage_name`` (its access already
    checked): ``filename`` is what the browser saves it as; ``download`` forces a
    download even for a type that may be shown inline."""
    inline = shown_inline(content_type) and not download
    quoted_etag = f'"{etag}"'
    if quoted_etag in _etags(request.headers.get("If-None-Match", "")):
        response: HttpResponseBase = HttpResponse(status=304)
    elif app_settings.ATTACHMENT_SERVE == "django":
        response = _stream(request, storage_name)
    else:
        response = HttpResponse()
        if app_settings.ATTACHMENT_SERVE == "x-accel-redirect":
            response["X-Accel-Redirect"] = app_settings.ATTACHMENT_ACCEL_PREFIX + quote(
                storage_name
            )
        else:
            response["X-Sendfile"] = file_store.local_path(storage_name) or storage_name
    response["Content-Type"] = content_type
    disposition = content_disposition_header(not inline, filename)
    if disposition:
        response["Content-Disposition"] = disposition
    response["ETag"] = quoted_etag
    response["Cache-Control"] = "private, no-cache"
    for header, value in FILE_HEADERS.items():
        response[header] = value
    return response


#: Bytes read per step of an asynchronous file response (each a hop to a worker thread).
BLOCK = 64 * 1024


def _stream(request: HttpRequest, storage_name: str) -> HttpResponseBase:
    """The stored file's bytes, a block at a time. Under ASGI the blocks are read in a
    worker thread by an asynchronous iterator: Django serves a synchronous one (a plain
    ``FileResponse``) there by reading it whole into memory first."""
    store = file_store.storage()
    file = store.open(storage_name, "rb")
    if not isinstance(request, ASGIRequest):
        return FileResponse(file)
    response = StreamingHttpResponse(_blocks(file))
    response["Content-Length"] = str(store.size(storage_name))
    return response


async def _blocks(file: Any) -> AsyncIterator[bytes]:
    read = sync_to_async(file.read, thread_sensitive=False)
    try:
        while block := await read(BLOCK):
            yield block
    finally:
        await sync_to_async(file.close, thread_sensitive=False)()


def _etags(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}
