"""HTTP routes: ``path("chat/", include("smartcampus_chat.urls"))``."""

from __future__ import annotations

from django.urls import include, path

from smartcampus_chat import views

app_name = "smartcampus_chat"

urlpatterns = [
    path("", views.room_list, name="room_list"),
    path("create/", views.room_create, name="room_create"),
    path("room/<slug:slug>/", views.room_detail, name="room"),
    path("room/<slug:slug>/join/", views.room_join, name="room_join"),
    # The REST API; its routes share this namespace (smartcampus_chat:api-room-list...).
    path("api/", include("smartcampus_chat.api.urls")),
]
