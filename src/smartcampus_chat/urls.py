"""HTTP routes: ``path("chat/", include("smartcampus_chat.urls"))``."""

from __future__ import annotations

from django.urls import include, path, register_converter

from smartcampus_chat.domain.validation import parse_int
from smartcampus_chat.web import health, views
from smartcampus_chat.web.views.push import service_worker


class ObjectIdConverter:
    """A primary key in a path: plain ASCII digits that fit a 64-bit column (Django's
    ``int`` converter takes any number of digits, which overflows the database driver)."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = parse_int(value, minimum=1)
        if number is None:
            raise ValueError(value)  # No match: the page answers 404.
        return number

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(ObjectIdConverter, "chat_id")

app_name = "smartcampus_chat"

urlpatterns = [
    path("", views.room_list, name="room_list"),
    path("browse/", views.room_list, {"browse": True}, name="room_browse"),
    path("create/", views.room_create, name="room_create"),
    path("people/", views.people_search, name="people"),
    path("preferences/", views.preferences, name="preferences"),
    path("exports/", views.exports, name="exports"),
    path("exports/<str:token>/", views.export_download, name="export_download"),
    path("search/", views.message_search, name="search"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/read/", views.notifications_read, name="notifications_read"),
    # The e-mail digests' one-click unsubscribe link (signed, no login: RFC 8058).
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("people/<chat_id:user_id>/open/", views.private_open, name="private_open"),
    path("room/<slug:slug>/", views.room_detail, name="room"),
    path("room/<slug:slug>/join/", views.room_join, name="room_join"),
    path("room/<slug:slug>/leave/", views.room_leave, name="room_leave"),
    path("room/<slug:slug>/read/", views.room_read, name="room_read"),
    path("room/<slug:slug>/settings/", views.room_settings, name="room_settings"),
    path("room/<slug:slug>/files/", views.room_files, name="room_files"),
    path("room/<slug:slug>/moderation/", views.room_moderation, name="room_moderation"),
    path(
        "room/<slug:slug>/notifications/",
        views.room_notifications,
        name="room_notifications",
    ),
    path(
        "room/<slug:slug>/members/<chat_id:user_id>/moderate/",
        views.member_moderate,
        name="member_moderate",
    ),
    path(
        "room/<slug:slug>/members/<chat_id:user_id>/remove/",
        views.member_remove,
        name="member_remove",
    ),
    path(
        "room/<slug:slug>/message/<chat_id:message_id>/edit/",
        views.message_edit,
        name="message_edit",
    ),
    path(
        "room/<slug:slug>/message/<chat_id:message_id>/report/",
        views.message_report,
        name="message_report",
    ),
    path(
        "room/<slug:slug>/message/<chat_id:message_id>/ack/",
        views.announcement_ack,
        name="announcement_ack",
    ),
    path(
        "room/<slug:slug>/message/<chat_id:message_id>/acks.csv",
        views.announcement_acks_csv,
        name="announcement_acks_csv",
    ),
    path(
        "room/<slug:slug>/message/<chat_id:message_id>/delete/",
        views.message_delete,
        name="message_delete",
    ),
    # Liveness of this process's real-time delivery (load balancer / orchestrator probes).
    path("files/<chat_id:attachment_id>/", views.attachment, name="attachment"),
    path(
        "files/<chat_id:attachment_id>/thumb/<slug:size>/",
        views.attachment_thumbnail,
        name="attachment_thumbnail",
    ),
    path(
        "files/previews/<chat_id:message_id>/",
        views.link_preview_image,
        name="link_preview_image",
    ),
    path("health/", health.health, name="health"),
    # Web Push's service worker: at the prefix, so that its scope is the chat's pages.
    path("service-worker.js", service_worker, name="service_worker"),
    # The REST API; its routes share this namespace (smartcampus_chat:api-room-list...).
    path("api/", include("smartcampus_chat.api.urls")),
]
