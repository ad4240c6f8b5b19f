"""API routes, included by ``smartcampus_chat.urls`` under ``api/``.

Route names live in the ``smartcampus_chat`` namespace: ``smartcampus_chat:api-room-list``,
``api-room-detail``, ``api-room-join``, ``api-room-read``, ``api-member-list``,
``api-member-detail``, ``api-message-list``, ``api-message-detail``, ``api-user-list``,
``api-unread``, ``api-private``, ``api-ws-ticket``, ``api-schema``, ``api-docs``,
``api-redoc``.
"""

from __future__ import annotations

from django.urls import path, re_path
from rest_framework.routers import SimpleRouter

from smartcampus_chat.api import views

# Any segment: the views answer the API's JSON 404 for a room that is missing or hidden.
ROOM = r"rooms/(?P<room_slug>[^/]+)"

router = SimpleRouter()
router.register("rooms", views.RoomViewSet, basename="api-room")
router.register(f"{ROOM}/messages", views.MessageViewSet, basename="api-message")
router.register(f"{ROOM}/members", views.MemberViewSet, basename="api-member")
router.register("users", views.UserViewSet, basename="api-user")

urlpatterns = [
    *router.urls,
    path("unread/", views.UnreadView.as_view(), name="api-unread"),
    path("private/", views.PrivateRoomView.as_view(), name="api-private"),
    path("ws-ticket/", views.TicketView.as_view(), name="api-ws-ticket"),
    path("schema/", views.SchemaView.as_view(), name="api-schema"),
    path("docs/", views.SwaggerView.as_view(), name="api-docs"),
    path("redoc/", views.RedocView.as_view(), name="api-redoc"),
    re_path(r"", views.NotFoundView.as_view(), name="api-not-found"),
]
