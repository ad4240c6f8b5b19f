"""Office hours over REST: the shapes of the protocol's payloads (a student never gets
another's name or topic: ``queue`` and ``stats`` are null for them) and the inputs."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from pydantic import BaseModel
from rest_framework import serializers

from smartcampus_chat.api.shapes import ProtocolSerializer
from smartcampus_chat.protocol.payloads import (
    OfficeHoursEntryData,
    OfficeHoursPlaceData,
    OfficeHoursSessionData,
    OfficeHoursStatsData,
)
from smartcampus_chat.queries.office_hours import OfficeHoursView


class _Given(ProtocolSerializer):
    """Renders a payload the query already built."""

    def render(self, instance: Any) -> BaseModel:
        assert isinstance(instance, self.shape)
        return instance


class OfficeHoursSessionSerializer(_Given):
    shape = OfficeHoursSessionData
    enum_components = {"state": "OfficeHoursState"}


class OfficeHoursEntrySerializer(_Given):
    shape = OfficeHoursEntryData
    enum_components = {"status": "OfficeHoursStatus"}


class OfficeHoursPlaceSerializer(_Given):
    shape = OfficeHoursPlaceData
    enum_components = {"status": "OfficeHoursStatus"}


class OfficeHoursStatsSerializer(_Given):
    shape = OfficeHoursStatsData


class OfficeHoursViewSerializer(serializers.Serializer):
    """A room's office hours as the person asking may see them."""

    room = serializers.CharField(read_only=True)
    session = OfficeHoursSessionSerializer(
        read_only=True, allow_null=True, help_text=_("The current session, else the last one.")
    )
    mine = OfficeHoursPlaceSerializer(
        read_only=True, allow_null=True, help_text=_("Your own place in its queue.")
    )
    queue = OfficeHoursEntrySerializer(
        many=True, read_only=True, allow_null=True, help_text=_("Teachers only: the queue.")
    )
    stats = OfficeHoursStatsSerializer(
        read_only=True, allow_null=True, help_text=_("Teachers only: the session's figures.")
    )

    def to_representation(self, instance: Any) -> dict[str, Any]:
        assert isinstance(instance, OfficeHoursView)
        return {
            "room": instance.room,
            "session": instance.session.model_dump(mode="json") if instance.session else None,
            "mine": instance.mine.model_dump(mode="json") if instance.mine else None,
            "queue": None
            if instance.queue is None
            else [e.model_dump(mode="json") for e in instance.queue],
            "stats": instance.stats.model_dump(mode="json") if instance.stats else None,
        }


class OfficeHoursOpenSerializer(serializers.Serializer):
    """Checked by the service (the schema's documentation)."""

    starts_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text=_("Absent: now. ISO 8601 with a time zone.")
    )
    ends_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text=_("Absent: until a teacher closes them.")
    )


class OfficeHoursRaiseSerializer(serializers.Serializer):
    topic = serializers.CharField(
        required=False, allow_blank=True, help_text=_("What about (at most 200 characters).")
    )


class OfficeHoursClaimSerializer(serializers.Serializer):
    entry = serializers.IntegerField(
        required=False, allow_null=True, help_text=_("An entry id; absent: the next student.")
    )


class OfficeHoursFinishSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=["done", "no_show"])
