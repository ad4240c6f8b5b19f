"""API routes, included by ``smartcampus_chat.urls`` under ``api/``.

Route names live in the ``smartcampus_chat`` namespace: ``smartcampus_chat:api-room-list``,
``api-room-detail``, ``api-room-join``, ``api-room-read``, ``api-member-list``,
``api-member-detail``, ``api-message-list``, ``api-message-detail``, ``api-user-list``,
``api-attachment-list``, ``api-attachment-detail``,
``api-search-messages``, ``api-unread``, ``api-private``, ``api-push``,
``api-push-subscriptions``, ``api-ws-ticket``, ``api-schema``,
``api-docs``, ``api-redoc``.
"""

from __future__ import annotations

from django.urls import path, re_path
from rest_framework.routers import SimpleRouter

from smartcampus_chat.api.attachments import AttachmentView, RoomAttachmentsView
from smartcampus_chat.api.base import NotFoundView
from smartcampus_chat.api.docs import RedocView, SchemaView, SwaggerView
from smartcampus_chat.api.members import MemberViewSet
from smartcampus_chat.api.message_search import MessageSearchView
from smartcampus_chat.api.messages import MessageViewSet
from smartcampus_chat.api.notifications import NotificationListView, NotificationsReadView
from smartcampus_chat.api.people import UserViewSet
from smartcampus_chat.api.push import PushConfigView, PushSubscriptionsView
from smartcampus_chat.api.reads import PreferencesView, UnreadView
from smartcampus_chat.api.rooms import PrivateRoomView, RoomViewSet
from smartcampus_chat.api.tickets import TicketView

# Any segment: the views answer the API's JSON 404 for a room that is missing or hidden.
ROOM = r"rooms/(?P<room_slug>[^/]+)"

router = SimpleRouter()
router.register("rooms", RoomViewSet, basename="api-room")
router.register(f"{ROOM}/messages", MessageViewSet, basename="api-message")
router.register(f"{ROOM}/members", MemberViewSet, basename="api-member")
router.register("users", UserViewSet, basename="api-user")

urlpatterns = [
    *router.urls,
    re_path(rf"^{ROOM}/attachments/$", RoomAttachmentsView.as_view(), name="api-attachment-list"),
    path("attachments/<str:pk>/", AttachmentView.as_view(), name="api-attachment-detail"),
    path("search/messages/", MessageSearchView.as_view(), name="api-search-messages"),
    path("unread/", UnreadView.as_view(), name="api-unread"),
    path("preferences/", PreferencesView.as_view(), name="api-preferences"),
    path("notifications/", NotificationListView.as_view(), name="api-notification-list"),
    path("notifications/read/", NotificationsReadView.as_view(), name="api-notifications-read"),
    path("private/", PrivateRoomView.as_view(), name="api-private"),
    path("push/", PushConfigView.as_view(), name="api-push"),
    path("push/subscriptions/", PushSubscriptionsView.as_view(), name="api-push-subscriptions"),
    path("ws-ticket/", TicketView.as_view(), name="api-ws-ticket"),
    path("schema/", SchemaView.as_view(), name="api-schema"),
    path("docs/", SwaggerView.as_view(), name="api-docs"),
    path("redoc/", RedocView.as_view(), name="api-redoc"),
    re_path(r"", NotFoundView.as_view(), name="api-not-found"),
]
