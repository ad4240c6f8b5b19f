"""The body of every error response."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text=_("Stable error code, see docs/api.md."))
    message = serializers.CharField(help_text=_("Human-readable, translated message."))
    # A declared field named "fields" is fine at run time (the serializer metaclass moves it
    # out of the class attributes); the stubs cannot know that.
    fields = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()),
        help_text=_("Messages per input field (empty when the error concerns no field)."),
    )


class ErrorSerializer(serializers.Serializer):
    """The body of every error response: ``{"error": {"code", "message", "fields"}}``."""

    error = ErrorDetailSerializer()
