"""HTML forms; they only shape input, the services validate and decide."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib.auth.models import Group
from django.core.validators import MaxLengthValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from smartcampus_chat.conf import ChatSettings, Setting, app_settings
from smartcampus_chat.domain.validation import parse_int
from smartcampus_chat.exceptions import ChatError
from smartcampus_chat.models import RoomType
from smartcampus_chat.queries import RoomCreateChoices


class ChatForm(forms.Form):
    """Bootstrap classes on the widgets, and service errors shown where they belong."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if widget.is_hidden:
                continue
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()

    def limit_length(self, name: str, setting: Setting[int]) -> None:
        """Bound field ``name`` by length setting ``setting``, read when the form is built
        (the setting, not a copy of it, is the limit; check E005 keeps it within its
        database column)."""
        field = cast(forms.CharField, self.fields[name])
        limit = setting.value()
        field.max_length = limit
        field.validators.append(MaxLengthValidator(limit))
        field.widget.attrs["maxlength"] = str(limit)

    def add_service_error(self, error: ChatError) -> None:
        """Show a service's error on the fields it names, else on the whole form."""
        if not error.fields:
            self.add_error(None, error.message)
            return
        for field, messages in error.fields.items():
            for message in messages:
                self.add_error(field if field in self.fields else None, message)


class ObjectChoiceField(forms.ModelChoiceField):
    """A choice of object by primary key; an integer key is written as plain ASCII digits
    (:func:`~smartcampus_chat.domain.validation.parse_int`), as on every door: Django's own field
    reads " 1" and "+1" as 1."""

    def to_python(self, value: Any) -> Any:
        queryset = self.queryset
        integer_keys = queryset is not None and isinstance(
            queryset.model._meta.pk, models.IntegerField
        )
        if (
            integer_keys
            and value not in self.empty_values
            and parse_int(str(value), minimum=1) is None
        ):
            raise forms.ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice"
            )
        return super().to_python(value)


class RoomCreateForm(ChatForm):
    """A new room. It offers only what the policy lets the user create
    (:func:`smartcampus_chat.queries.room_create_choices`): the types, and the group and
    course fields only with their type."""

    name = forms.CharField(label=_("Name"))
    room_type = forms.ChoiceField(
        label=_("Type"),
        initial=RoomType.PUBLIC,
        error_messages={"invalid_choice": _("You may not create this kind of room here.")},
    )
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    group = ObjectChoiceField(
        label=_("Group"),
        queryset=Group.objects.none(),
        required=False,
        help_text=_("Only for a group room: its members are the group's members."),
    )
    course = ObjectChoiceField(
        label=_("Course"),
        queryset=Group.objects.none(),
        required=False,
        help_text=_("Only for a course room: one of the courses you teach."),
    )

    def __init__(self, *args: Any, choices: RoomCreateChoices, **kwargs: Any) -> None:
        """``choices``: what the policy lets the user create."""
        super().__init__(*args, **kwargs)
        self.limit_length("name", ChatSettings.MAX_ROOM_NAME_LENGTH)
        labels = dict(RoomType.choices)
        cast(forms.ChoiceField, self.fields["room_type"]).choices = [
            (t, labels[t]) for t in choices.room_types
        ]
        if RoomType.GROUP in choices.room_types:
            cast(forms.ModelChoiceField, self.fields["group"]).queryset = choices.groups
        else:
            del self.fields["group"]
        if RoomType.COURSE in choices.room_types and choices.courses is not None:
            cast(forms.ModelChoiceField, self.fields["course"]).queryset = choices.courses
        else:
            del self.fields["course"]


class RoomSettingsForm(ChatForm):
    name = forms.CharField(label=_("Name"))
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    is_archived = forms.BooleanField(
        label=_("Archived"),
        required=False,
        help_text=_("An archived room stays readable but nobody can post in it."),
    )
    read_receipts = forms.BooleanField(
        label=_("Read receipts"),
        required=False,
        help_text=_("Show who has seen the messages (small rooms only)."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limit_length("name", ChatSettings.MAX_ROOM_NAME_LENGTH)


class PreferencesForm(ChatForm):
    read_receipts = forms.BooleanField(
        label=_("Read receipts"),
        required=False,
        help_text=_(
            "Show others when you have seen their messages, and see when they have seen yours."
        ),
    )


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's documented pattern); the services check them."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        if isinstance(data, (list, tuple)):
            return [super(MultipleFileField, self).clean(item, initial) for item in data]
        return [super().clean(data, initial)] if data else []


class MessageForm(ChatForm):
    content = forms.CharField(
        label=_("Message"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": _("Write a message…")}),
    )
    client_id = forms.CharField(required=False, widget=forms.HiddenInput)
    # A declared field leaves the class attributes (the form's own ``files`` stays the
    # uploaded files); named so for the no-JS composer's <input name="files">.
    files = MultipleFileField(label=_("Attach files"), required=False)  # type: ignore[assignment]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["content"].widget.attrs["maxlength"] = str(app_settings.MAX_MESSAGE_LENGTH)


class MessageEditForm(ChatForm):
    content = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 4}))
