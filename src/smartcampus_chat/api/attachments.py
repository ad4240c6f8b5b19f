"""Attachments: upload a file into a room, withdraw an upload, read one, list a room's files.

Uploads are ``multipart/form-data`` with one ``file`` each; the request body is cut at
``ATTACHMENT_MAX_BYTES`` as it arrives (:mod:`smartcampus_chat.infra.uploads`).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from smartcampus_chat import queries, services
from smartcampus_chat.api.base import ROOM_SLUG, ChatAPIView, document, path_id
from smartcampus_chat.api.serializers.fields import MAX_INTEGER, StrictIntegerField
from smartcampus_chat.api.shapes import AttachmentSerializer, RoomFileSerializer
from smartcampus_chat.conf import app_settings
from smartcampus_chat.exceptions import FileTooLarge, ValidationFailed
from smartcampus_chat.infra.uploads import limit_uploads

ATTACHMENT_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="Attachment id.")

#: What a multipart body may add to its file (boundaries, headers, other fields).
MULTIPART_OVERHEAD = 64 * 1024


class UploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text=_("The file; its type is read from its content."))


class FilesQuerySerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=["image", "file"], required=False, help_text=_("Only images, or only files.")
    )
    before = StrictIntegerField(
        required=False,
        min_value=1,
        max_value=MAX_INTEGER,
        help_text=_("Files with a lower id than this (the next page)."),
    )
    limit = StrictIntegerField(required=False, min_value=1, max_value=MAX_INTEGER)


@extend_schema(tags=["attachments"], parameters=[ROOM_SLUG])
class RoomAttachmentsView(ChatAPIView):
    parser_classes = [MultiPartParser]
    error_statuses = {"post": ("409", "413", "415", "422")}

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if request.method == "POST":
            self.upload_limit = limit_uploads(request._request, app_settings.ATTACHMENT_MAX_BYTES)

    @document(
        summary="A room's files, newest first (files of deleted messages are not listed)",
        parameters=[FilesQuerySerializer],
        responses=inline_serializer(
            "RoomFilesPage",
            {
                "results": RoomFileSerializer(many=True),
                "next": serializers.URLField(allow_null=True),
            },
        ),
    )
    def get(self, request: Request, room_slug: str) -> Response:
        room, _access = services.get_room_for(request.user, room_slug)
        params = FilesQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        limit = min(
            params.validated_data.get("limit", app_settings.PAGE_SIZE), app_settings.MAX_PAGE_SIZE
        )
        page = queries.room_attachments(
            room,
            kind=params.validated_data.get("kind"),
            before=params.validated_data.get("before"),
            limit=limit,
        )
        next_url = None
        if page.before is not None:
            next_url = replace_query_param(request.build_absolute_uri(), "before", page.before)
        results = RoomFileSerializer(page.attachments, many=True).data
        return Response({"results": results, "next": next_url})

    @document(
        summary="Upload a file to send in this room (one file per request)",
        request={"multipart/form-data": UploadSerializer},
        responses={201: OpenApiResponse(AttachmentSerializer, description=_("Stored."))},
    )
    def post(self, request: Request, room_slug: str) -> Response:
        room, access = services.get_room_for(request.user, room_slug)
        services.check_attachments_enabled()
        services.attachments.check_declared_size(
            request.META.get("CONTENT_LENGTH"), MULTIPART_OVERHEAD
        )
        files = request.FILES
        if self.upload_limit.exceeded:
            raise FileTooLarge()
        upload = files.get("file")
        if upload is None:
            raise ValidationFailed(fields={"file": [str(_("No file was sent."))]})
        attachment = services.check_upload(request.user, room, access, upload)
        return Response(AttachmentSerializer(attachment).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["attachments"], parameters=[ATTACHMENT_ID])
class AttachmentView(ChatAPIView):
    @document(
        summary="One file (yours not sent yet, or one you may see)", responses=AttachmentSerializer
    )
    def get(self, request: Request, pk: str) -> Response:
        attachment = queries.attachment_for(request.user, path_id(pk))
        return Response(AttachmentSerializer(attachment).data)

    @document(summary="Withdraw your upload before sending it", responses={204: None})
    def delete(self, request: Request, pk: str) -> Response:
        services.check_withdraw_upload(request.user, path_id(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)
