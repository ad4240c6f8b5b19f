"""Stored files over HTTP: an attachment and its thumbnails, each request access-checked
(:func:`smartcampus_chat.queries.attachment_for`), and a link preview's image (the
message's access, :func:`smartcampus_chat.queries.preview_image_for`); all served by
:mod:`smartcampus_chat.web.files`."""

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


@chat_page("GET", "HEAD")
def link_preview_image(request: HttpRequest, message_id: int) -> HttpResponseBase:
    """The image of a message's link preview (re-encoded by the server), for whoever may
    read the message."""
    preview = queries.preview_image_for(request.user, message_id)
    return file_response(
        request,
        storage_name=preview.image_storage_name,
        content_type="image/jpeg",
        filename="preview.jpg",
        etag=preview.image_storage_name.rpartition("/")[2],
    )
