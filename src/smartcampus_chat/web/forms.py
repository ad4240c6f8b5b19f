"""HTML forms; they only shape input, the services validate and decide."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.validators import MaxLengthValidator
from django.db import models
from django.utils import timezone as dj_timezone
from django.utils.translation import gettext_lazy as _

from smartcampus_chat.conf import ChatSettings, Setting, app_settings
from smartcampus_chat.domain.notifications import mute_end
from smartcampus_chat.domain.validation import parse_int
from smartcampus_chat.exceptions import ChatError
from smartcampus_chat.models import NotifyLevel, ReportCategory, Role, RoomType
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


#: A room's slow mode, as the settings page offers it (the API takes any number of seconds).
SLOW_MODE_CHOICES = [
    (0, _("Off")),
    (10, _("One message every 10 seconds")),
    (30, _("One message every 30 seconds")),
    (60, _("One message a minute")),
    (300, _("One message every 5 minutes")),
    (900, _("One message every 15 minutes")),
    (3600, _("One message an hour")),
]
#: How long a mute or ban lasts, as the settings page offers it ("": until lifted).
DURATION_CHOICES = [
    (600, _("10 minutes")),
    (3600, _("1 hour")),
    (86400, _("1 day")),
    (604800, _("1 week")),
    ("", _("Until lifted")),
]


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
    is_locked = forms.BooleanField(
        label=_("Locked"),
        required=False,
        help_text=_("Only moderators may post (announcement mode); members still react."),
    )
    qa_mode = forms.BooleanField(
        label=_("Q&A mode"),
        required=False,
        help_text=_(
            "Top-level posts are questions and replies their answers: students up-vote "
            "questions, teachers and TAs endorse answers and mark questions resolved."
        ),
    )
    members_can_create_polls = forms.BooleanField(
        label=_("Members create polls"),
        required=False,
        help_text=_("Members, not only moderators, may post polls."),
    )
    slow_mode_seconds = forms.TypedChoiceField(
        label=_("Slow mode"),
        coerce=int,
        required=False,
        empty_value=None,
        choices=SLOW_MODE_CHOICES,
        help_text=_("How often each member may send a message; moderators are exempt."),
    )
    word_filter = forms.CharField(
        label=_("Word filter"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Words or phrases refused here (or held for review, as the site decides), one "
            "per line, on top of the site's list."
        ),
    )
    allow_anonymous = forms.BooleanField(
        label=_("Allow anonymous posts"),
        required=False,
        help_text=_(
            "Students may post anonymously to their classmates; the room's moderators can "
            "reveal the author (audit-logged)."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limit_length("name", ChatSettings.MAX_ROOM_NAME_LENGTH)
        current = self.initial.get("slow_mode_seconds")
        field = self.fields["slow_mode_seconds"]
        if isinstance(field, forms.ChoiceField) and current not in dict(SLOW_MODE_CHOICES):
            # Set through the API to a value the list does not offer: keep it choosable.
            label = _("One message every %(seconds)d seconds") % {"seconds": current}
            field.choices = [*SLOW_MODE_CHOICES, (current, label)]


class SanctionForm(ChatForm):
    """A moderator's action on a member from the room settings page (the service checks
    who may do it and cleans the duration and reason)."""

    action = forms.ChoiceField(
        choices=[
            ("mute", _("Mute")),
            ("unmute", _("Unmute")),
            ("ban", _("Ban")),
            ("lift_ban", _("Lift the ban")),
            ("role", _("Change the role")),
        ]
    )
    duration = forms.TypedChoiceField(
        label=_("For"),
        coerce=int,
        empty_value=None,
        required=False,
        choices=DURATION_CHOICES,
    )
    reason = forms.CharField(label=_("Reason"), required=False, max_length=500)
    role = forms.ChoiceField(label=_("Role"), required=False, choices=Role.choices)


class ReportForm(ChatForm):
    """A member's report of a message (the service checks the rest)."""

    category = forms.ChoiceField(
        label=_("Why"),
        widget=forms.RadioSelect,
        choices=[(c.value, c.label) for c in ReportCategory if c != ReportCategory.FILTERED],
    )
    note = forms.CharField(
        label=_("Note for the moderators"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ResolveForm(ChatForm):
    """A moderator's action on an item of the moderation queue."""

    report = forms.IntegerField(min_value=1)
    action = forms.ChoiceField(
        choices=[
            ("dismiss", _("Dismiss")),
            ("delete", _("Delete the message")),
            ("mute", _("Mute the author")),
            ("ban", _("Ban the author")),
            ("approve", _("Approve")),
            ("reject", _("Reject")),
        ]
    )
    duration = forms.TypedChoiceField(
        label=_("For"), coerce=int, empty_value=None, required=False, choices=DURATION_CHOICES
    )
    reason = forms.CharField(label=_("Reason"), required=False, max_length=500)


class PreferencesForm(ChatForm):
    """A person's preferences: privacy, then the notifications of the channels the site
    has on (``NOTIFICATIONS``, ``NOTIFY_PUSH``, ``NOTIFY_EMAIL``). Only shapes the input:
    ``check_set_preferences`` validates it (an unknown time zone, quiet hours with one end,
    a digest delay out of range) and its errors are shown on their fields."""

    read_receipts = forms.BooleanField(
        label=_("Read receipts"),
        required=False,
        help_text=_(
            "Show others when you have seen their messages, and see when they have seen yours."
        ),
    )
    browser_notifications = forms.BooleanField(
        label=_("Desktop notifications"),
        required=False,
        help_text=_(
            "While a chat tab is open in the background, this browser shows your mentions,"
            " replies and private messages (allow it from the notifications panel)."
        ),
    )
    push_notifications = forms.BooleanField(
        label=_("Push notifications"),
        required=False,
        help_text=_("When no chat tab is open, on the devices where you turned them on."),
    )
    push_private_content = forms.BooleanField(
        label=_("Message text in push notifications of private messages"),
        required=False,
        help_text=_('Off: a private message is announced as "New message", without its text.'),
    )
    email_digests = forms.BooleanField(
        label=_("E-mail digests"),
        required=False,
        help_text=_("What stayed unread, gathered in one e-mail."),
    )
    digest_delay = forms.IntegerField(
        label=_("Digest delay (minutes)"),
        required=False,
        help_text=_("How long a notification stays unread before it goes into a digest."),
    )
    quiet_hours_start = forms.TimeField(
        label=_("Quiet hours from"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    quiet_hours_end = forms.TimeField(
        label=_("Quiet hours until"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=_("No desktop or push notification between these times (both or neither)."),
    )
    time_zone = forms.CharField(
        label=_("Time zone"),
        required=False,
        help_text=_("Of your quiet hours, as in Europe/Paris. Empty: the site's."),
    )
    language = forms.ChoiceField(
        label=_("Language of notifications"), required=False, help_text=_("Of e-mails and push.")
    )

    #: The fields of the "Notifications" section, in order (the rest is "Privacy").
    NOTIFICATION_FIELDS = (
        "browser_notifications",
        "push_notifications",
        "push_private_content",
        "email_digests",
        "digest_delay",
        "quiet_hours_start",
        "quiet_hours_end",
        "time_zone",
        "language",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        site = app_settings
        hidden: set[str] = set()
        if not site.NOTIFICATIONS:
            hidden.update(self.NOTIFICATION_FIELDS)
        if not site.NOTIFY_PUSH:
            hidden.update({"push_notifications", "push_private_content"})
        if not site.NOTIFY_EMAIL:
            hidden.update({"email_digests", "digest_delay"})
        for name in hidden:
            del self.fields[name]
        if "language" in self.fields:
            cast(forms.ChoiceField, self.fields["language"]).choices = [
                ("", _("The site's")),
                *((code, _(name)) for code, name in settings.LANGUAGES),
            ]

    @classmethod
    def initial_from(cls, preferences: Any) -> dict[str, Any]:
        """The form's initial values: the person's choices, the site's defaults where they
        never chose."""
        site = app_settings

        def chosen(value: Any, default: Any) -> Any:
            return default if value is None else value

        return {
            "read_receipts": preferences.read_receipts,
            "browser_notifications": chosen(
                preferences.browser_notifications, site.NOTIFY_BROWSER_DEFAULT
            ),
            "push_notifications": chosen(preferences.push_notifications, site.NOTIFY_PUSH_DEFAULT),
            "push_private_content": preferences.push_private_content,
            "email_digests": chosen(preferences.email_digests, site.NOTIFY_EMAIL_DEFAULT),
            "digest_delay": chosen(preferences.digest_delay, site.NOTIFY_DIGEST_DELAY),
            "quiet_hours_start": preferences.quiet_hours_start,
            "quiet_hours_end": preferences.quiet_hours_end,
            "time_zone": preferences.time_zone,
            "language": preferences.language,
        }

    def changes(self) -> dict[str, Any]:
        """The cleaned values as ``check_set_preferences`` takes them: an emptied digest
        delay is the site's default (None)."""
        return dict(self.cleaned_data)

    def privacy_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name not in self.NOTIFICATION_FIELDS]

    def notification_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.NOTIFICATION_FIELDS if name in self.fields]


class RoomNotificationsForm(ChatForm):
    """A room's notifications (its header's "Notifications" menu, and its page without
    JavaScript): the level, a mute ("1h"... "forever"), or "off" to unmute. What is not
    posted stays as it is."""

    level = forms.ChoiceField(
        label=_("Notify me of"),
        required=False,
        widget=forms.RadioSelect,
        choices=[("", _("The default")), *NotifyLevel.choices],
    )
    mute = forms.ChoiceField(
        label=_("Mute"),
        required=False,
        choices=[
            ("", _("Not muted")),
            ("1h", _("For 1 hour")),
            ("8h", _("For 8 hours")),
            ("1d", _("For 1 day")),
            ("1w", _("For 1 week")),
            ("forever", _("Until I turn it back on")),
            ("off", _("Unmute")),
        ],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["level"].widget.attrs["class"] = "form-check-input"

    def setting(self, level: str, muted_until: datetime | None) -> tuple[str, datetime | None]:
        """The level and end of mute after this form, from the current ones."""
        data = self.cleaned_data
        if "level" in self.data:
            level = data["level"]
        return level, mute_end(data.get("mute") or "", muted_until, dj_timezone.now())


class NotificationsReadForm(ChatForm):
    """Mark notifications read: ``id`` (one, repeated for several) or ``all``; ``next``: the
    page to go to afterwards (the message, for "Open"; checked to be on this site)."""

    all = forms.BooleanField(required=False)
    next = forms.CharField(required=False)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        ids = []
        for value in self.data.getlist("id") if hasattr(self.data, "getlist") else []:
            number = parse_int(str(value), minimum=1)
            if number is None:
                raise forms.ValidationError(_("Not a notification."), code="invalid")
            ids.append(number)
        cleaned["ids"] = ids
        return cleaned


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
    # The room's moderators (the composer shows these to them only; the send checks).
    announcement = forms.BooleanField(label=_("Post as an announcement"), required=False)
    requires_ack = forms.BooleanField(label=_("Members must acknowledge it"), required=False)
    ack_due = forms.DateTimeField(
        label=_("Acknowledge by"),
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
        widget=forms.DateTimeInput(
            attrs={"type": "datetime-local", "class": "form-control form-control-sm"},
            format="%Y-%m-%dT%H:%M",
        ),
    )

    # Where the room allows it, students (the composer shows it to them only; the send
    # checks). The note says plainly that the teachers can reveal the author.
    anonymous = forms.BooleanField(
        label=_("Post anonymously to classmates"),
        required=False,
        help_text=_("Your teachers can reveal your name if needed."),
        widget=forms.CheckboxInput(
            attrs={"class": "form-check-input", "aria-describedby": "scc-anonymous-note"}
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["content"].widget.attrs["maxlength"] = str(app_settings.MAX_MESSAGE_LENGTH)


class MessageEditForm(ChatForm):
    content = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 4}))
