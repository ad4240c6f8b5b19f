"""Reports and the moderation queue: a report's input, a queue item, a resolution."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from smartcampus_chat.api.shapes import MessageSerializer, UserRefSerializer, UTCDateTimeField
from smartcampus_chat.models import ReportCategory, ReportOutcome, ReportStatus
from smartcampus_chat.services.reports import HELD_ACTIONS, MAX_NOTE_LENGTH, REPORT_ACTIONS

_CATEGORIES = [(c.value, c.label) for c in ReportCategory if c != ReportCategory.FILTERED]


class ReportInputSerializer(serializers.Serializer):
    """Checked by the service (the schema's documentation)."""

    category = serializers.ChoiceField(choices=_CATEGORIES)
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=MAX_NOTE_LENGTH, help_text=_("Why.")
    )


class MyReportSerializer(serializers.Serializer):
    """A report as its reporter sees it (never who resolves it)."""

    id = serializers.IntegerField()
    category = serializers.CharField(help_text=_("One of the categories of the input."))
    note = serializers.CharField()
    status = serializers.ChoiceField(choices=ReportStatus.choices)
    created_at = UTCDateTimeField()


class QueueItemSerializer(serializers.Serializer):
    """An open item of a room's moderation queue (reviewers only). ``held``: a message the
    word filter held (no reporter, no message: ``content`` is the text waiting)."""

    id = serializers.IntegerField(source="report.pk")
    held = serializers.BooleanField(source="report.is_held")
    category = serializers.CharField(
        source="report.category",
        help_text=_("A report's category, or filtered (held by the word filter)."),
    )
    note = serializers.CharField(source="report.note")
    created_at = UTCDateTimeField(source="report.created_at")
    reporter = UserRefSerializer(source="report.reporter", allow_null=True)
    author = UserRefSerializer(source="report.author", allow_null=True)
    author_label = serializers.CharField(
        source="report.author_label", help_text=_("The author's name when reported.")
    )
    content = serializers.CharField(
        source="report.content",
        help_text=_("The text as reported (kept when the message is deleted), or held."),
    )
    message_id = serializers.IntegerField(source="report.message_id", allow_null=True)
    around = serializers.SerializerMethodField(
        help_text=_("The message and up to 2 messages on each side, as the room shows them.")
    )

    @extend_schema_field(MessageSerializer(many=True))
    def get_around(self, item: Any) -> list[dict[str, Any]]:
        # Deleted messages show no content here either (the payload's rule).
        context = {"room_slug": self.context["room_slug"], "show_deleted_content": False}
        return list(MessageSerializer(item.context, many=True, context=context).data)


class ResolveInputSerializer(serializers.Serializer):
    action = serializers.ChoiceField(
        choices=sorted(set(REPORT_ACTIONS) | set(HELD_ACTIONS)),
        help_text=_(
            "dismiss, delete, mute or ban (a report); approve, reject, mute or ban "
            "(a held message)."
        ),
    )
    duration = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text=_("A mute's or ban's seconds (null: indefinitely)."),
    )
    reason = serializers.CharField(required=False, allow_blank=True)


class ResolutionSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=ReportOutcome.choices)
