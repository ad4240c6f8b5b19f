"""Anonymous posts: a reveal's reason, and the author it answers (docs/anonymous-posts.md)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from smartcampus_chat.api.shapes import UserRefSerializer
from smartcampus_chat.domain.anonymity import MAX_REASON_LENGTH


class RevealInputSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=MAX_REASON_LENGTH,
        help_text=_("Why you reveal the author (kept in the audit log)."),
    )


class RevealSerializer(serializers.Serializer):
    """Who wrote an anonymous message: answered to the moderator who asked, and logged."""

    message_id = serializers.IntegerField(source="message.pk")
    author = UserRefSerializer(
        allow_null=True, help_text=_("None when the author's account is gone.")
    )
