"""A person's data exports (docs/data-export.md): the "Your data" page (``exports/``: the
list, and a button to ask for a new export) and the one download of a ready export
(``exports/<token>/``: a signed link, for its requester only)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from asgiref.sync import sync_to_async
from django.contrib import messages as flash
from django.core.handlers.asgi import ASGIRequest
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from smartcampus_chat.exceptions import ChatError
from smartcampus_chat.infra import file_store
from smartcampus_chat.models import ChatExport
from smartcampus_chat.queries.exports import download_url, exports_of
from smartcampus_chat.services.exports import (
    check_download_export,
    check_request_export,
    finish_download,
)
from smartcampus_chat.web.files import FILE_HEADERS
from smartcampus_chat.web.views.common import chat_page, error_response, page_context

#: Bytes read per step of a download.
BLOCK = 64 * 1024


@chat_page("GET", "POST")
def exports(request: HttpRequest) -> HttpResponse:
    """GET: the person's exports and their links; POST: ask for a new one (then back
    here: it is prepared in the background)."""
    if request.method == "POST":
        check_request_export(request.user)
        flash.success(
            request, _("Your export is being prepared. Come back to this page to download it.")
        )
        return redirect("smartcampus_chat:exports")
    rows = [(export, download_url(export)) for export in exports_of(request.user)]
    return render(request, "smartcampus_chat/exports.html", page_context(exports=rows))


@never_cache
@chat_page("GET")
def export_download(request: HttpRequest, token: str) -> HttpResponseBase:
    """The zip, once: claimed before its first byte, its file removed once sent. A link
    downloaded already or expired answers 410, in JSON when the client asks for JSON."""
    try:
        export = check_download_export(request.user, token)
    except ChatError as exc:
        if "application/json" in request.headers.get("Accept", ""):
            body = {"error": {"code": exc.code, "message": exc.message, "fields": {}}}
            return JsonResponse(body, status=exc.status)
        return error_response(request, exc)
    # Under ASGI an asynchronous iterator: Django reads a synchronous one whole first.
    blocks = _async_blocks(export) if isinstance(request, ASGIRequest) else _blocks(export)
    response = StreamingHttpResponse(blocks, content_type="application/zip")
    response["Content-Length"] = str(export.size)
    filename = f"chat-export-{export.created_at:%Y-%m-%d}-{export.pk}.zip"
    response["Content-Disposition"] = content_disposition_header(True, filename) or "attachment"
    response["Cache-Control"] = "private, no-store"
    for header, value in FILE_HEADERS.items():
        response[header] = value
    return response


def _blocks(export: ChatExport) -> Iterator[bytes]:
    """The stored zip a block at a time; whether sent or cut off, the file goes after."""
    file: Any = None
    try:
        file = file_store.storage().open(export.storage_name, "rb")
        while block := file.read(BLOCK):
            yield block
    finally:
        if file is not None:
            file.close()
        finish_download(export)


async def _async_blocks(export: ChatExport) -> AsyncIterator[bytes]:
    """:func:`_blocks` for ASGI: each read in a worker thread."""
    file: Any = None
    try:
        file = await sync_to_async(file_store.storage().open, thread_sensitive=False)(
            export.storage_name, "rb"
        )
        read = sync_to_async(file.read, thread_sensitive=False)
        while block := await read(BLOCK):
            yield block
    finally:
        if file is not None:
            await sync_to_async(file.close, thread_sensitive=False)()
        await sync_to_async(finish_download)(export)
