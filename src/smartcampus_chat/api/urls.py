"""API routes, included by ``smartcampus_chat.urls`` under ``api/``.

Route names live in the ``smartcampus_chat`` namespace: ``smartcampus_chat:api-room-list``,
``api-room-detail``, ``api-room-join``, ``api-room-read``, ``api-member-list``,
``api-member-detail``, ``api-message-list``, ``api-message-detail``, ``api-user-list``,
``api-attachment-list``, ``api-attachment-detail``, ``api-export-list``,
``api-search-messages``, ``api-unread``, ``api-private``, ``api-push``,
``api-push-subscriptions``, ``api-member-mute``, ``api-member-ban``, ``api-member-role``,
``api-room-bans``, ``api-message-report``, ``api-message-ack``, ``api-message-acks``,
``api-room-announcements``, ``api-room-questions``, ``api-question-vote``,
``api-question-resolve``, ``api-answer-endorse``, ``api-report-list``, ``api-report-resolve``,
``api-room-announcements``, ``api-poll``, ``api-poll-vote``, ``api-poll-close``,
``api-report-list``, ``api-report-resolve``,
``api-office-hours``, ``api-office-hours-queue``,
``api-office-hours-claim``, ``api-office-hours-finish``, ``api-ws-ticket``, ``api-schema``,
``api-docs``, ``api-redoc``.
"""

from __future__ import annotations

from django.urls import path, re_path
from rest_framework.routers import SimpleRouter

from smartcampus_chat.api.announcements import (
    AcknowledgeView,
    AcksView,
    PendingAnnouncementsView,
)
from smartcampus_chat.api.attachments import AttachmentView, RoomAttachmentsView
from smartcampus_chat.api.base import NotFoundView
from smartcampus_chat.api.docs import RedocView, SchemaView, SwaggerView
from smartcampus_chat.api.exports import ExportListView
from smartcampus_chat.api.members import MemberViewSet
from smartcampus_chat.api.message_search import MessageSearchView
from smartcampus_chat.api.messages import MessageViewSet
from smartcampus_chat.api.notifications import NotificationListView, NotificationsReadView
from smartcampus_chat.api.office_hours import (
    OfficeHoursClaimView,
    OfficeHoursFinishView,
    OfficeHoursQueueView,
    OfficeHoursView,
)
from smartcampus_chat.api.people import UserViewSet
from smartcampus_chat.api.polls import PollCloseView, PollView, PollVoteView
from smartcampus_chat.api.push import PushConfigView, PushSubscriptionsView
from smartcampus_chat.api.questions import EndorseView, QuestionsView, ResolveView, VoteView
from smartcampus_chat.api.reads import PreferencesView, UnreadView
from smartcampus_chat.api.reports import ReportMessageView, ReportQueueView, ResolveReportView
from smartcampus_chat.api.rooms import PrivateRoomView, RoomViewSet
from smartcampus_chat.api.sanctions import BansView, BanView, MuteView, RoleView
from smartcampus_chat.api.tickets import TicketView

# Any segment: the views answer the API's JSON 404 for a room that is missing or hidden.
ROOM = r"rooms/(?P<room_slug>[^/]+)"

router = SimpleRouter()
router.register("rooms", RoomViewSet, basename="api-room")
router.register(f"{ROOM}/messages", MessageViewSet, basename="api-message")
router.register(f"{ROOM}/members", MemberViewSet, basename="api-member")
router.register("users", UserViewSet, basename="api-user")

MEMBER = rf"{ROOM}/members/(?P<user_id>[^/]+)"

urlpatterns = [
    re_path(rf"^{MEMBER}/mute/$", MuteView.as_view(), name="api-member-mute"),
    re_path(rf"^{MEMBER}/ban/$", BanView.as_view(), name="api-member-ban"),
    re_path(rf"^{MEMBER}/role/$", RoleView.as_view(), name="api-member-role"),
    re_path(rf"^{ROOM}/bans/$", BansView.as_view(), name="api-room-bans"),
    re_path(
        rf"^{ROOM}/messages/(?P<message_id>[^/]+)/report/$",
        ReportMessageView.as_view(),
        name="api-message-report",
    ),
    re_path(
        rf"^{ROOM}/messages/(?P<message_id>[^/]+)/ack/$",
        AcknowledgeView.as_view(),
        name="api-message-ack",
    ),
    re_path(
        rf"^{ROOM}/messages/(?P<message_id>[^/]+)/acks/$",
        AcksView.as_view(),
        name="api-message-acks",
    ),
    re_path(rf"^{ROOM}/messages/(?P<message_id>[^/]+)/poll/$", PollView.as_view(), name="api-poll"),
    re_path(
        rf"^{ROOM}/messages/(?P<message_id>[^/]+)/poll/vote/$",
        PollVoteView.as_view(),
        name="api-poll-vote",
    ),
    re_path(
        rf"^{ROOM}/messages/(?P<message_id>[^/]+)/poll/close/$",
        PollCloseView.as_view(),
        name="api-poll-close",
    ),
    re_path(
        rf"^{ROOM}/announcements/$",
        PendingAnnouncementsView.as_view(),
        name="api-room-announcements",
    ),
    re_path(rf"^{ROOM}/questions/$", QuestionsView.as_view(), name="api-room-questions"),
    re_path(
        rf"^{ROOM}/messages/(?P<message_id>[^/]+)/vote/$",
        VoteView.as_view(),
        name="api-question-vote",
    ),
    re_path(
        rf"^{ROOM}/messages/(?P<message_id>[^/]+)/resolve/$",
        ResolveView.as_view(),
        name="api-question-resolve",
    ),
    re_path(
        rf"^{ROOM}/messages/(?P<message_id>[^/]+)/endorse/$",
        EndorseView.as_view(),
        name="api-answer-endorse",
    ),
    re_path(rf"^{ROOM}/reports/$", ReportQueueView.as_view(), name="api-report-list"),
    re_path(
        rf"^{ROOM}/reports/(?P<report_id>[^/]+)/resolve/$",
        ResolveReportView.as_view(),
        name="api-report-resolve",
    ),
    re_path(rf"^{ROOM}/office-hours/$", OfficeHoursView.as_view(), name="api-office-hours"),
    re_path(
        rf"^{ROOM}/office-hours/queue/$",
        OfficeHoursQueueView.as_view(),
        name="api-office-hours-queue",
    ),
    re_path(
        rf"^{ROOM}/office-hours/claim/$",
        OfficeHoursClaimView.as_view(),
        name="api-office-hours-claim",
    ),
    re_path(
        rf"^{ROOM}/office-hours/entries/(?P<entry_id>[^/]+)/finish/$",
        OfficeHoursFinishView.as_view(),
        name="api-office-hours-finish",
    ),
    *router.urls,
    re_path(rf"^{ROOM}/attachments/$", RoomAttachmentsView.as_view(), name="api-attachment-list"),
    path("attachments/<str:pk>/", AttachmentView.as_view(), name="api-attachment-detail"),
    path("exports/", ExportListView.as_view(), name="api-export-list"),
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
