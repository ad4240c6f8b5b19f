"""Admin for rooms, messages, participants, files, notifications and push subscriptions.
Changes go through the services.

Every change staff make here is a service call, so it is announced like the same change
made in the chat (events to connected clients, the documented signals): creating a room
(its creator becomes its owner), renaming, describing and archiving it, its retention
rule, adding a participant, changing a role, removing (``removed``) or restoring a
participant, deleting a membership, editing, deleting and restoring messages. Fields that
only the chat itself moves (read markers, presence, change numbers) are read-only.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from smartcampus_chat import services
from smartcampus_chat.conf import app_settings
from smartcampus_chat.domain import names, retention
from smartcampus_chat.exceptions import ChatError, ValidationFailed
from smartcampus_chat.models import (
    ChatAttachment,
    ChatAuditEntry,
    ChatExport,
    ChatMessage,
    ChatNotification,
    ChatNotificationDelivery,
    ChatParticipant,
    ChatPushSubscription,
    ChatRoom,
)
from smartcampus_chat.services.erasure import check_erase_user
from smartcampus_chat.services.exports import do_request_room_export
from smartcampus_chat.services.push_subscriptions import do_remove_gone
from smartcampus_chat.services.rooms import check_name_distinct, clean_room_name
from smartcampus_chat.web.audit_export import audit_csv_response


def save_participant(
    request: HttpRequest, participant: ChatParticipant, changed: Iterable[str], *, adding: bool
) -> ChatParticipant:
    """A participant row saved in the admin (its own page or a room's inline), through the
    services: the returned row is the stored one."""
    if adding:
        stored = services.do_join_room(participant.user, participant.room, participant.role)
        if participant.is_banned:
            services.do_remove_member(request.user, stored.room, stored)
        return stored
    if "role" in changed:
        services.do_set_role(participant, participant.role)
    if "is_banned" in changed:
        if participant.is_banned:
            services.do_remove_member(request.user, participant.room, participant)
        else:
            services.do_unban_member(participant)
    return participant


class ChatParticipantInlineForm(forms.ModelForm):
    """A stored row's user is fixed: another user is another membership (delete, then add)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["user"].disabled = True


class ChatParticipantInline(admin.TabularInline):
    model = ChatParticipant
    form = ChatParticipantInlineForm
    extra = 0
    raw_id_fields = ["user"]
    fields = ["user", "role", "is_banned", "is_online", "last_seen", "last_read_seq", "joined_at"]
    readonly_fields = ["is_online", "last_seen", "last_read_seq", "joined_at"]


class ChatRoomForm(forms.ModelForm):
    """The admin's room form: names follow the chat's rule (normal form, visible, not a
    look-alike of another room of the same scope), as in the services."""

    #: The admin user (set by :meth:`ChatRoomAdmin.get_form`): whose visible rooms count.
    chat_user: Any = None

    class Meta:
        model = ChatRoom
        fields = [
            "name",
            "slug",
            "room_type",
            "description",
            "is_archived",
            "group",
            "course_key",
            "created_by",
            "retention",
            "retention_days",
        ]

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if "retention" in cleaned and "retention_days" in cleaned:
            try:
                retention.clean_rule(cleaned["retention"], cleaned["retention_days"])
            except ValidationFailed as exc:
                for field, messages in exc.fields.items():
                    self.add_error(field, messages)
        if cleaned.get("name") is None:
            return cleaned
        room = self.instance
        try:
            cleaned["name"] = clean_room_name(cleaned["name"])
            group = cleaned.get("group", room.group if room.group_id else None)
            scope = (
                cleaned.get("room_type", room.room_type),
                group.pk if group is not None else None,
                cleaned.get("course_key", room.course_key),
            )
            # Unchanged name (by look) and scope: nothing new to compare. Rooms named alike
            # before the rule can still be edited (archived...).
            if (
                room.pk is None
                or names.skeleton(cleaned["name"]) != names.skeleton(room.name)
                or scope != (room.room_type, room.group_id, room.course_key)
            ):
                check_name_distinct(
                    self.chat_user,
                    cleaned["name"],
                    room_type=scope[0],
                    group_id=scope[1],
                    course_key=scope[2],
                    exclude_pk=room.pk,
                )
        except ValidationFailed as exc:
            for field, messages in exc.fields.items():
                self.add_error(field if field in self.fields else None, messages)
        return cleaned


@admin.register(ChatRoom)
class ChatRoomAdmin(admin.ModelAdmin):
    form = ChatRoomForm
    list_display = ["name", "slug", "room_type", "is_archived", "last_seq", "created_at"]
    list_filter = ["room_type", "is_archived"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}
    raw_id_fields = ["created_by"]
    readonly_fields = [
        "last_seq",
        "last_event_seq",
        "last_message_at",
        "created_at",
        "updated_at",
        "archived_at",
        "purged_through_seq",
    ]
    inlines = [ChatParticipantInline]
    actions = ["export_rooms"]
    # What a room *is* (type, link, address) is fixed once it exists: changing it would
    # silently change who may read its history.
    fixed_after_creation = ["slug", "room_type", "group", "course_key", "created_by"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        fields = list(self.readonly_fields)
        return fields + self.fixed_after_creation if obj is not None else fields

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        return type(form.__name__, (form,), {"chat_user": request.user})

    def get_prepopulated_fields(self, request: HttpRequest, obj: Any = None) -> dict[str, Any]:
        return {} if obj is not None else dict(self.prepopulated_fields)

    def save_model(self, request: HttpRequest, obj: ChatRoom, form: Any, change: bool) -> None:
        if not change:
            self._create(request, obj)
            return
        # Renaming, describing and archiving go through the service: connected clients
        # receive ``room.updated`` like for a change made in the chat itself.
        editable = ("name", "description", "is_archived", "is_locked", "slow_mode_seconds")
        changes = {name: getattr(obj, name) for name in editable if name in form.changed_data}
        if changes:
            services.do_update_room(obj, actor=request.user, **changes)
        if {"retention", "retention_days"} & set(form.changed_data):
            # The stored row, so that the audit entry names the rule it replaces.
            stored = ChatRoom.objects.get(pk=obj.pk)
            services.check_set_retention(request.user, stored, obj.retention, obj.retention_days)

    def _create(self, request: HttpRequest, obj: ChatRoom) -> None:
        """Create through the service (owner row, ``room.added``, ``room_created``), into
        ``obj``: the admin saves the inlines and redirects with it."""
        room = services.do_create_room(
            obj.created_by or request.user,
            name=obj.name,
            room_type=obj.room_type,
            description=obj.description,
            group=obj.group,
            slug=obj.slug or None,
            course_key=obj.course_key,
        )
        if obj.is_archived:
            services.do_update_room(room, is_archived=True)
        if obj.retention or obj.retention_days is not None:
            services.check_set_retention(request.user, room, obj.retention, obj.retention_days)
        obj.pk = room.pk
        obj.refresh_from_db()
        obj._state.adding = False

    @admin.action(
        description=_("Export the selected rooms (legal hold: JSON and transcript)"),
        permissions=["change"],
    )
    def export_rooms(self, request: HttpRequest, queryset: QuerySet[ChatRoom]) -> None:
        """Each room's zip is built in the background, then downloaded (once) from the
        staff member's own "Your data" page (docs/data-export.md)."""
        count = 0
        for room in queryset:
            do_request_room_export(request.user, room)
            count += 1
        text = ngettext(
            "The export of %(count)d room is being prepared: download it from "
            '<a href="%(url)s">your data page</a> once it is ready.',
            "The exports of %(count)d rooms are being prepared: download them from "
            '<a href="%(url)s">your data page</a> once they are ready.',
            count,
        ) % {"count": count, "url": reverse("smartcampus_chat:exports")}
        self.message_user(request, mark_safe(text))  # noqa: S308 (our text, a number, a URL)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not ChatParticipant:
            super().save_formset(request, form, formset, change)
            return
        formset.save(commit=False)
        for participant in formset.deleted_objects:
            services.do_delete_member(request.user, participant)
        for participant in formset.new_objects:
            save_participant(request, participant, (), adding=True)
        for participant, changed in formset.changed_objects:
            save_participant(request, participant, changed, adding=False)


@admin.register(ChatMessage)
class ChatMessageAdmin(admin.ModelAdmin):
    list_display = [
        "room",
        "seq",
        "author",
        "short_content",
        "created_at",
        "is_edited",
        "is_deleted",
    ]
    list_filter = ["is_deleted", "is_edited", "room__room_type"]
    search_fields = ["content", "sender__username", "sender__email"]
    list_select_related = ["room", "sender"]
    # Only the content is editable here, and saving it goes through the edit service (new
    # change number, event to connected clients); deletion and restoration are actions.
    fields = [
        "room",
        "seq",
        "author",
        "anonymous",
        "content",
        "reply_to",
        "created_at",
        "is_edited",
        "edited_at",
        "is_deleted",
        "deleted_at",
        "deleted_by",
        "event_seq",
        "client_id",
        "reaction_summary",
        "mention_summary",
    ]
    readonly_fields = [str(name) for name in fields if name != "content"]
    actions = ["soft_delete", "restore"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # A deleted message's content is kept for audit, never changed: an edit would
        # announce it to the room again.
        if obj is not None and obj.is_deleted:
            return [*self.readonly_fields, "content"]
        return list(self.readonly_fields)

    def save_model(self, request: HttpRequest, obj: ChatMessage, form: Any, change: bool) -> None:
        if change and "content" in form.changed_data:
            try:
                services.do_edit_message(request.user, obj, obj.content)
            except ChatError as exc:  # Deleted since the form was shown.
                self.message_user(request, exc.message, level=messages.ERROR)

    @admin.display(description=_("sender"))
    def author(self, message: ChatMessage) -> str:
        """The sender, but for an anonymous post: staff learn its author only through the
        audited reveal (docs/anonymous-posts.md), not here."""
        return names.author_name(message)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[ChatMessage], search_term: str
    ) -> tuple[QuerySet[ChatMessage], bool]:
        found, duplicates = super().get_search_results(request, queryset, search_term)
        if search_term:
            # Found by its author's username or e-mail, an anonymous post would name them.
            found = found.exclude(Q(anonymous=True) & ~Q(content__icontains=search_term))
        return found, duplicates

    @admin.display(description=_("content"))
    def short_content(self, message: ChatMessage) -> str:
        return message.content[:80]

    @admin.display(description=_("reactions"))
    def reaction_summary(self, message: ChatMessage) -> str:
        """Who reacted with what, for audit (reactions change through the service only)."""
        users: dict[str, list[str]] = {}
        for row in message.reactions.select_related("user").order_by("pk"):
            users.setdefault(row.emoji, []).append(names.display_name(row.user))
        return "; ".join(f"{emoji} {', '.join(people)}" for emoji, people in users.items())

    @admin.display(description=_("mentions"))
    def mention_summary(self, message: ChatMessage) -> str:
        """Whom the message mentions, as stored when it was written (for audit)."""
        rows = message.mentions.select_related("user").order_by("pk")
        return ", ".join(
            "@everyone" if row.user is None else names.display_name(row.user) for row in rows
        )

    @admin.action(
        description=_("Delete the selected messages (soft delete)"), permissions=["change"]
    )
    def soft_delete(self, request: HttpRequest, queryset: QuerySet[ChatMessage]) -> None:
        count = 0
        for message in queryset.filter(is_deleted=False):
            services.do_delete_message(request.user, message)
            count += 1
        self.message_user(
            request, ngettext("%d message deleted.", "%d messages deleted.", count) % count
        )

    @admin.action(description=_("Restore the selected deleted messages"), permissions=["change"])
    def restore(self, request: HttpRequest, queryset: QuerySet[ChatMessage]) -> None:
        count = 0
        for message in queryset.filter(is_deleted=True):
            services.do_restore_message(message)
            count += 1
        self.message_user(
            request, ngettext("%d message restored.", "%d messages restored.", count) % count
        )

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ChatParticipant)
class ChatParticipantAdmin(admin.ModelAdmin):
    list_display = ["user", "room", "role", "is_online", "is_banned", "last_read_seq", "joined_at"]
    list_filter = ["role", "is_online", "is_banned", "room__room_type"]
    search_fields = ["user__username", "room__name"]
    list_select_related = ["user", "room"]
    raw_id_fields = ["user", "room"]
    fields = ["room", "user", "role", "is_banned", "is_online", "last_seen", "last_read_seq"]
    readonly_fields = ["is_online", "last_seen", "last_read_seq"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # A row's room and user are fixed: another pair is another membership.
        fields = list(self.readonly_fields)
        return [*fields, "room", "user"] if obj is not None else fields

    def save_model(
        self, request: HttpRequest, obj: ChatParticipant, form: Any, change: bool
    ) -> None:
        stored = save_participant(request, obj, form.changed_data, adding=not change)
        obj.pk = stored.pk
        obj._state.adding = False

    def delete_model(self, request: HttpRequest, obj: ChatParticipant) -> None:
        services.do_delete_member(request.user, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[ChatParticipant]) -> None:
        for participant in queryset.select_related("room", "user"):
            services.do_delete_member(request.user, participant)


class SentFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [
            ("sent", _("Sent")),
            ("pending", _("Not sent (upload)")),
            ("deleted", _("In a deleted message")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value == "sent":
            return queryset.filter(message__isnull=False, message__is_deleted=False)
        if value == "pending":
            return queryset.filter(message__isnull=True)
        if value == "deleted":
            return queryset.filter(message__is_deleted=True)
        return queryset


@admin.register(ChatAttachment)
class ChatAttachmentAdmin(admin.ModelAdmin):
    """Files shared in the chat, read-only; deleting some goes through the service (their
    messages are announced again without them, the stored files go after commit)."""

    list_display = ["name", "room", "uploader", "kind", "content_type", "file_size", "created_at"]
    list_filter = [SentFilter, "kind", "content_type", "room__room_type"]
    search_fields = ["name", "uploader__username", "uploader__email", "sha256"]
    list_select_related = ["room", "uploader"]
    fields = [
        "open_link",
        "name",
        "room",
        "uploader",
        "message",
        "content_type",
        "kind",
        "file_size",
        "width",
        "height",
        "sha256",
        "storage_name",
        "created_at",
    ]
    readonly_fields = [str(name) for name in fields]

    @admin.display(description=_("size"), ordering="size")
    def file_size(self, attachment: ChatAttachment) -> str:
        return str(filesizeformat(attachment.size))

    @admin.display(description=_("file"))
    def open_link(self, attachment: ChatAttachment) -> str:
        url = reverse("smartcampus_chat:attachment", args=[attachment.pk])
        return format_html('<a href="{}?download=1">{}</a>', url, _("Download"))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[ChatAttachment]) -> None:
        """ "Delete selected": through the service (messages announced, files removed)."""
        services.do_remove_attachments(queryset)

    def delete_model(self, request: HttpRequest, obj: ChatAttachment) -> None:
        services.do_remove_attachments([obj])

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    """A log: browsed and searched, never edited by hand."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class DeliveryInline(admin.TabularInline):
    model = ChatNotificationDelivery
    extra = 0
    fields = ["channel", "state", "attempts", "due_at", "sent_at", "detail"]
    readonly_fields = ["channel", "state", "attempts", "due_at", "sent_at", "detail"]
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ChatNotification)
class ChatNotificationAdmin(ReadOnlyAdmin):
    """The notification log (docs/notifications.md): who was told of which message, and
    what became of each channel's delivery."""

    list_display = ["user", "kind", "room", "actor", "created_at", "read_at"]
    list_filter = ["kind", ("read_at", admin.EmptyFieldListFilter), "room__room_type"]
    search_fields = ["user__username", "user__email", "room__name"]
    list_select_related = ["user", "room", "actor"]
    date_hierarchy = "created_at"
    fields = ["user", "kind", "room", "message", "actor", "created_at", "read_at"]
    readonly_fields = ["user", "kind", "room", "message", "actor", "created_at", "read_at"]
    inlines = [DeliveryInline]


@admin.register(ChatNotificationDelivery)
class ChatNotificationDeliveryAdmin(ReadOnlyAdmin):
    """Web Push and e-mail deliveries: what is pending, what failed and why."""

    list_display = ["notification", "channel", "state", "attempts", "due_at", "sent_at", "detail"]
    list_filter = ["channel", "state"]
    search_fields = ["notification__user__username", "detail"]
    list_select_related = ["notification"]
    fields = ["notification", "channel", "state", "attempts", "due_at", "sent_at", "detail"]
    readonly_fields = [
        "notification",
        "channel",
        "state",
        "attempts",
        "due_at",
        "sent_at",
        "detail",
    ]


@admin.register(ChatExport)
class ChatExportAdmin(ReadOnlyAdmin):
    """Data exports (docs/data-export.md): who asked for what, and what became of it. The
    zip itself is downloaded by its requester only, once."""

    list_display = ["pk", "user", "kind", "room", "status", "size", "created_at", "expires_at"]
    list_filter = ["kind", "status"]
    search_fields = ["user__username", "room__name"]
    list_select_related = ["user", "room"]
    fields = readonly_fields = (
        "user",
        "kind",
        "room",
        "status",
        "size",
        "created_at",
        "started_at",
        "ready_at",
        "expires_at",
        "downloaded_at",
    )


#: Characters of an endpoint the admin shows (the rest is a per-browser token).
ENDPOINT_SHOWN = 60


@admin.register(ChatPushSubscription)
class ChatPushSubscriptionAdmin(ReadOnlyAdmin):
    """Browsers subscribed to Web Push (docs/notifications.md, "Web Push"): the keys are
    never shown, the endpoint only in part (its tail is the browser's token at the push
    service). Deleting one stops push to that browser until it subscribes again."""

    list_display = ["user", "browser", "created_at", "last_success_at", "failures"]
    list_filter = ["last_success_at"]
    search_fields = ["user__username", "user__email", "user__first_name", "user__last_name"]
    list_select_related = ["user"]
    fields = ["user", "short_endpoint", "user_agent", "created_at", "last_success_at", "failures"]
    readonly_fields = [str(name) for name in fields]

    @admin.display(description=_("browser"), ordering="user_agent")
    def browser(self, subscription: ChatPushSubscription) -> str:
        return subscription.user_agent[:80] or "-"

    @admin.display(description=_("endpoint"))
    def short_endpoint(self, subscription: ChatPushSubscription) -> str:
        endpoint = subscription.endpoint
        return endpoint if len(endpoint) <= ENDPOINT_SHOWN else endpoint[:ENDPOINT_SHOWN] + "…"

    def delete_queryset(
        self, request: HttpRequest, queryset: QuerySet[ChatPushSubscription]
    ) -> None:
        do_remove_gone(list(queryset.values_list("id", flat=True)))

    def delete_model(self, request: HttpRequest, obj: ChatPushSubscription) -> None:
        do_remove_gone([obj.pk])


@admin.register(ChatAuditEntry)
class ChatAuditEntryAdmin(ReadOnlyAdmin):
    """The audit log, read-only: entries are written by the actions themselves and never
    changed nor deleted (docs/moderation.md). Staff with the view permission browse and
    export it."""

    list_display = ["created_at", "action", "actor_label", "room_label", "target_label", "reason"]
    list_filter = ["action", "created_at"]
    search_fields = ["actor_label", "room_label", "target_label", "reason"]
    date_hierarchy = "created_at"
    actions = ["export_csv"]
    list_select_related = False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("Export the selected entries (CSV)"))
    def export_csv(self, request: HttpRequest, queryset: QuerySet[ChatAuditEntry]) -> HttpResponse:
        return audit_csv_response(queryset.order_by("created_at", "pk"))


# --- Erasure, for the host's user admin ---------------------------------------------------


@admin.action(description=_("Erase their chat data"), permissions=["delete"])
def erase_chat_data(
    modeladmin: admin.ModelAdmin[Any], request: HttpRequest, queryset: QuerySet[Any]
) -> HttpResponse | None:
    """An admin action for the host's user admin (docs/data-export.md, "Erasure"): add it
    to the ``actions`` of the ``ModelAdmin`` of ``AUTH_USER_MODEL``. It asks first, on a
    page choosing what happens to their messages; who may delete users may erase them.
    The staff member's own account is left out (erasing it would end their session)."""
    people = [person for person in queryset if person.pk != request.user.pk]
    myself = len(people) < len(queryset)
    if request.POST.get("confirmed") != "yes":
        context = {
            **modeladmin.admin_site.each_context(request),
            "opts": modeladmin.model._meta,
            "people": people,
            "myself": myself,
            "default": app_settings.ERASURE_MESSAGES,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "title": _("Erase chat data"),
        }
        return TemplateResponse(request, "smartcampus_chat/admin/erase_users.html", context)
    try:
        for person in people:
            check_erase_user(person, messages=request.POST.get("messages"), actor=request.user)
    except ChatError as exc:
        modeladmin.message_user(request, exc.message, messages.ERROR)
        return None
    text = ngettext(
        "The chat data of %(count)d person was erased.",
        "The chat data of %(count)d people was erased.",
        len(people),
    ) % {"count": len(people)}
    modeladmin.message_user(request, text, messages.SUCCESS)
    return None
