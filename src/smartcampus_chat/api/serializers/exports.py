"""Data exports: one of a person's exports, with its download link once ready."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from smartcampus_chat.models import ChatExport
from smartcampus_chat.queries.exports import download_url


class ExportSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField(
        help_text=_("user: your own data; room: a room exported by staff (legal hold).")
    )
    room = serializers.CharField(
        allow_null=True, help_text=_("The room's slug (room exports); null for your own data.")
    )
    status = serializers.CharField(help_text=_("pending, ready, failed, downloaded or expired."))
    size = serializers.IntegerField(help_text=_("Bytes of the zip (0 until it is ready)."))
    created_at = serializers.DateTimeField()
    ready_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)
    downloaded_at = serializers.DateTimeField(allow_null=True)
    download_url = serializers.CharField(
        allow_null=True,
        help_text=_(
            "While the export is ready: its signed link, which works once, for you, "
            "until expires_at. A second download answers 410 (export_gone)."
        ),
    )

    def to_representation(self, instance: Any) -> Any:
        export: ChatExport = instance
        return super().to_representation(
            {
                "id": export.pk,
                "kind": export.kind,
                "room": export.room.slug if export.room is not None else None,
                "status": export.status,
                "size": export.size,
                "created_at": export.created_at,
                "ready_at": export.ready_at,
                "expires_at": export.expires_at,
                "downloaded_at": export.downloaded_at,
                "download_url": download_url(export),
            }
        )
