"""HTML pages. Thin: parse the request, call a service or a query, render.

Every view needs a logged-in user (but the e-mails' unsubscribe link); errors raised by
the services are turned into responses by :func:`smartcampus_chat.web.views.common.chat_errors`.
"""

from smartcampus_chat.web.views.announcements import announcement_ack, announcement_acks_csv
from smartcampus_chat.web.views.attachments import (
    attachment,
    attachment_thumbnail,
    link_preview_image,
)
from smartcampus_chat.web.views.exports import export_download, exports
from smartcampus_chat.web.views.message_search import message_search
from smartcampus_chat.web.views.messages import message_delete, message_edit
from smartcampus_chat.web.views.notifications import (
    notifications,
    notifications_read,
    room_notifications,
)
from smartcampus_chat.web.views.people import people_search, private_open
from smartcampus_chat.web.views.preferences import preferences
from smartcampus_chat.web.views.reports import message_report, room_moderation
from smartcampus_chat.web.views.room_files import room_files
from smartcampus_chat.web.views.rooms import (
    member_moderate,
    member_remove,
    room_create,
    room_detail,
    room_join,
    room_leave,
    room_list,
    room_read,
    room_settings,
)
from smartcampus_chat.web.views.unsubscribe import unsubscribe

__all__ = [
    "announcement_ack",
    "announcement_acks_csv",
    "attachment",
    "attachment_thumbnail",
    "export_download",
    "exports",
    "link_preview_image",
    "member_moderate",
    "member_remove",
    "message_delete",
    "message_edit",
    "message_report",
    "message_search",
    "notifications",
    "notifications_read",
    "people_search",
    "preferences",
    "private_open",
    "room_create",
    "room_detail",
    "room_files",
    "room_join",
    "room_leave",
    "room_list",
    "room_moderation",
    "room_notifications",
    "room_read",
    "room_settings",
    "unsubscribe",
]
