"""Data exports (docs/data-export.md): ``GET exports/`` (mine, with each status and the
download link of a ready one), ``POST exports/`` (ask for an export of my data)."""

from __future__ import annotations

from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from smartcampus_chat.api.base import ChatAPIView, document
from smartcampus_chat.api.serializers.exports import ExportSerializer
from smartcampus_chat.queries.exports import exports_of
from smartcampus_chat.services.exports import check_request_export


class ExportListView(ChatAPIView):
    error_statuses = {"post": ("409",)}

    @document(
        tags=["exports"],
        summary="My data exports, newest first",
        responses=ExportSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        return Response(ExportSerializer(exports_of(request.user), many=True).data)

    @document(
        tags=["exports"],
        summary="Ask for an export of my data",
        description=(
            "The zip (messages, reactions, rooms, notification settings, files sent) is "
            "prepared in the background: list the exports until its status is ready, then "
            "download it once from download_url. Errors: export_pending (409: one is being "
            "prepared), export_limit_reached (429: EXPORT_MAX_PER_DAY in 24 hours)."
        ),
        request=None,
        responses={202: ExportSerializer},
    )
    def post(self, request: Request) -> Response:
        export = check_request_export(request.user)
        return Response(ExportSerializer(export).data, status=status.HTTP_202_ACCEPTED)
