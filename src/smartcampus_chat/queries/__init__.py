"""Read-side queries shared by the doors, one module per feature.

Each function costs a fixed number of queries whatever the number of rooms, messages or
participants (the tests count them). The names are re-exported here:
``from smartcampus_chat import queries; queries.history(...)``.
"""

from __future__ import annotations

from smartcampus_chat.queries.announcements import (
    AckStatus,
    ack_status,
    acks_message,
    pending_announcements,
)
from smartcampus_chat.queries.attachments import FilesPage, attachment_for, room_attachments
from smartcampus_chat.queries.courses import room_for_course, visible_room_for_course
from smartcampus_chat.queries.edits import edit_history
from smartcampus_chat.queries.history import (
    HistoryPage,
    PurgeMarks,
    changes_since,
    clamp_page_size,
    history,
    purge_marks,
    shows_deleted_content,
)
from smartcampus_chat.queries.link_previews import preview_image_for
from smartcampus_chat.queries.members import participant_rows, participants
from smartcampus_chat.queries.mentions import (
    mention_candidates,
    mentioning_me,
    resolve_mentions,
    unread_mentions,
)
from smartcampus_chat.queries.message_search import (
    SearchHit,
    SearchPage,
    find_messages,
    hit_payloads,
    search_messages,
)
from smartcampus_chat.queries.notifications import (
    NotificationsPage,
    NotificationText,
    notification_texts,
    notifications_of,
    unread_notification_count,
)
from smartcampus_chat.queries.office_hours import (
    OfficeHoursView,
    current_session,
    latest_session,
    office_hours_staff_ids,
    office_hours_view,
    place_data,
    session_data,
    session_queue,
    session_state,
    session_stats,
    staff_queue,
)
from smartcampus_chat.queries.pages import (
    MemberRow,
    MessageRow,
    PeoplePage,
    RoomCreateChoices,
    RoomFile,
    RoomFilesPage,
    RoomListPage,
    RoomPage,
    RoomSettingsPage,
    people_page,
    room_create_choices,
    room_files_page,
    room_list_page,
    room_page,
    room_settings_page,
)
from smartcampus_chat.queries.people import (
    PEOPLE_LIMIT,
    active_users,
    people_search_fields,
    search_people,
)
from smartcampus_chat.queries.pins import pinned_messages
from smartcampus_chat.queries.polls import poll_message, with_my_votes
from smartcampus_chat.queries.preferences import preferences_of
from smartcampus_chat.queries.questions import question_list, render_questions
from smartcampus_chat.queries.reads import unread_summary
from smartcampus_chat.queries.receipts import (
    Receipt,
    read_receipts,
    receipt_audience,
    shares_receipts,
)
from smartcampus_chat.queries.reports import (
    QueueItem,
    open_count,
    open_report,
    report_queue,
    review_room,
    reviewer_ids,
)
from smartcampus_chat.queries.rooms import (
    RoomDetail,
    followed_rooms,
    joinable_rooms,
    last_messages,
    message_anchor,
    message_for,
    message_in_room,
    my_rooms,
    private_titles,
    room_by_id,
    room_detail,
    room_exists,
    room_for,
    room_list,
    room_payload,
    room_payload_by_id,
    room_titles,
    with_titles,
)
from smartcampus_chat.queries.sanctions import Sanction, room_bans
from smartcampus_chat.queries.search import SEARCH_MAX_LENGTH, clean_search
from smartcampus_chat.queries.sidebar import Sidebar, SidebarSection, sidebar

__all__ = [
    "PEOPLE_LIMIT",
    "SEARCH_MAX_LENGTH",
    "AckStatus",
    "FilesPage",
    "HistoryPage",
    "MemberRow",
    "MessageRow",
    "NotificationText",
    "NotificationsPage",
    "OfficeHoursView",
    "PeoplePage",
    "PurgeMarks",
    "QueueItem",
    "Receipt",
    "RoomCreateChoices",
    "RoomDetail",
    "RoomFile",
    "RoomFilesPage",
    "RoomListPage",
    "RoomPage",
    "RoomSettingsPage",
    "Sanction",
    "SearchHit",
    "SearchPage",
    "Sidebar",
    "SidebarSection",
    "ack_status",
    "acks_message",
    "active_users",
    "attachment_for",
    "changes_since",
    "clamp_page_size",
    "clean_search",
    "current_session",
    "edit_history",
    "find_messages",
    "followed_rooms",
    "history",
    "hit_payloads",
    "joinable_rooms",
    "last_messages",
    "latest_session",
    "mention_candidates",
    "mentioning_me",
    "message_anchor",
    "message_for",
    "message_in_room",
    "my_rooms",
    "notification_texts",
    "notifications_of",
    "office_hours_staff_ids",
    "office_hours_view",
    "open_count",
    "open_report",
    "participant_rows",
    "participants",
    "pending_announcements",
    "people_page",
    "people_search_fields",
    "pinned_messages",
    "place_data",
    "poll_message",
    "preferences_of",
    "preview_image_for",
    "private_titles",
    "purge_marks",
    "question_list",
    "read_receipts",
    "receipt_audience",
    "render_questions",
    "report_queue",
    "resolve_mentions",
    "review_room",
    "reviewer_ids",
    "room_attachments",
    "room_bans",
    "room_by_id",
    "room_create_choices",
    "room_detail",
    "room_exists",
    "room_files_page",
    "room_for",
    "room_for_course",
    "room_list",
    "room_list_page",
    "room_page",
    "room_payload",
    "room_payload_by_id",
    "room_settings_page",
    "room_titles",
    "search_messages",
    "search_people",
    "session_data",
    "session_queue",
    "session_state",
    "session_stats",
    "shares_receipts",
    "shows_deleted_content",
    "sidebar",
    "staff_queue",
    "unread_mentions",
    "unread_notification_count",
    "unread_summary",
    "visible_room_for_course",
    "with_my_votes",
    "with_titles",
]
