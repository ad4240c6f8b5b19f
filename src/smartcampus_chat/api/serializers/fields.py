"""Fields and helpers shared by the API's serializers."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.utils import html

from smartcampus_chat.conf import Setting
from smartcampus_chat.domain.validation import parse_int

#: Largest id or number the database stores (64-bit signed); larger input is invalid.
MAX_INTEGER = 2**63 - 1


class StrictIntegerField(serializers.IntegerField):
    """An integer: a JSON integer, or plain ASCII digits in a query string or a form.

    DRF's ``IntegerField`` reads text with ``int()``, which takes "٣" for 3, " 1" for 1
    and "1.0" for 1, and JSON floats such as ``1e9``; a number here is written one way
    only (:func:`smartcampus_chat.domain.validation.parse_int`, the rule of every door).
    """

    def get_value(self, dictionary: Any) -> Any:
        # DRF reads a blank query or form value of an optional field as "absent"; here
        # "?before=" is a malformed number, as on every other door.
        if html.is_html_input(dictionary) and dictionary.get(self.field_name) == "":
            return ""
        return super().get_value(dictionary)

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, str):
            if len(data) > self.MAX_STRING_LENGTH:
                self.fail("max_string_length")
            number = parse_int(data, minimum=0, maximum=MAX_INTEGER)
            if number is None:
                if data.isascii() and data.isdigit():
                    number = int(data)  # Too large: max_value says so below.
                else:
                    self.fail("invalid")
            return int(number)
        if not isinstance(data, int) or isinstance(data, bool):
            self.fail("invalid")
        return data


class SettingsLengthMixin:
    """Set ``max_length`` of fields from settings each time a serializer is built."""

    fields: Any
    max_lengths: dict[str, Setting[int]] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, setting in self.max_lengths.items():
            field = self.fields[name]
            limit = setting.value()
            field.max_length = limit
            field.validators.append(
                MaxLengthValidator(
                    limit, message=field.error_messages["max_length"].format(max_length=limit)
                )
            )


@extend_schema_field(
    {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$", "example": "22:00"}
)
class WallClockTimeField(serializers.Field):
    """A time of day on the person's own clock, ``"HH:MM"`` (no zone: it is read in their
    time zone), ``datetime.time`` inside."""

    default_error_messages = {"invalid": _('Must be a time of day such as "22:00".')}

    def to_internal_value(self, data: Any) -> dt.time:
        if not isinstance(data, str) or not re.fullmatch(r"([01][0-9]|2[0-3]):[0-5][0-9]", data):
            self.fail("invalid")
        hours, minutes = data.split(":")
        return dt.time(int(hours), int(minutes))

    def to_representation(self, value: dt.time) -> str:
        return value.strftime("%H:%M")
