"""HTML forms; they only shape input, the services validate and decide."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _

from smartcampus_chat.conf import app_settings
from smartcampus_chat.courses import get_course_model
from smartcampus_chat.models import RoomType


class RoomCreateForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    room_type = forms.ChoiceField(
        label=_("Type"),
        choices=[(t.value, t.label) for t in (RoomType.PUBLIC, RoomType.GROUP, RoomType.COURSE)],
        initial=RoomType.PUBLIC,
    )
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    group = forms.ModelChoiceField(label=_("Group"), queryset=Group.objects.none(), required=False)
    course = forms.ModelChoiceField(
        label=_("Course"), queryset=Group.objects.none(), required=False
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.CharField, self.fields["name"]).max_length = app_settings.MAX_ROOM_NAME_LENGTH
        groups = Group.objects.all() if user.is_staff else user.groups.all()
        self.fields["group"].queryset = groups.order_by("name")  # type: ignore[attr-defined]
        course_model = get_course_model()
        if course_model is None:
            del self.fields["course"]
            self.fields["room_type"].choices = [  # type: ignore[attr-defined]
                (t.value, t.label) for t in (RoomType.PUBLIC, RoomType.GROUP)
            ]
        else:
            self.fields["course"].queryset = course_model._default_manager.all()  # type: ignore[attr-defined]


class MessageForm(forms.Form):
    content = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 2}))
    client_id = forms.CharField(required=False, widget=forms.HiddenInput)
