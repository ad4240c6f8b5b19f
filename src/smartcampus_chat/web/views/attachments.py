"""Attachments over HTTP: a file and its thumbnails, each request access-checked
(:func:`smartcampus_chat.queries.attachment_for`), served by :mod:`smartcampus_chat.web.files`."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponseBase

from smartcampus_chat import queries
from smartcampus_chat.exceptions import NotFound
from smartcampus_chat.web.files import file_response
from smartcampus_chat.web.views.common import chat_page


@chat_page("GET", "HEAD")
def attachment(request: HttpRequest, attachment_id: int) -> HttpResponseBase:
    """The file itself: shown inline when its type allows, ``?download=1`` to download."""
    found = queries.attachment_for(request.user, attachment_id)
    return file_response(
        request,
        storage_name=found.storage_name,
        content_type=found.content_type,
        filename=found.name,
        etag=found.sha256,
        download="download" in request.GET,
    )


@chat_page("GET", "HEAD")
def attachment_thumbnail(request: HttpRequest, attachment_id: int, size: str) -> HttpResponseBase:
    """An image's thumbnail ``size`` (``small``, ``large``); 404 for an image small
    enough to have none (its ``thumbnail_url`` is then null)."""
    found = queries.attachment_for(request.user, attachment_id)
    thumbnail = (found.thumbnails or {}).get(size)
    if thumbnail is None:
        raise NotFound()
    stem = found.name.rpartition(".")[0] or found.name
    content_type = str(thumbnail.get("content_type", "image/webp"))
    extension = content_type.rpartition("/")[2].replace("jpeg", "jpg")
    return file_response(
        request,
        storage_name=str(thumbnail["name"]),
        content_type=content_type,
        filename=f"{stem}-{size}.{extension}",
        etag=f"{found.sha256}-{size}",
    )
