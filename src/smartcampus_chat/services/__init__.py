"""The only code that changes chat state.

Every ``check_*`` function validates its input and asks the policy, then calls the matching
``do_*`` function, which assumes valid input, writes in one transaction and publishes events
and signals after commit. Doors (views, API, consumers, admin) call ``check_*``.

Sending a message has one implementation, for one send or many: :mod:`.batch`.

The public Python API for host code (stable, documented in docs/integration.md, "The
Python API"): :func:`ensure_course_room`, :func:`sync_course_rooms`,
:func:`room_for_course`, :func:`enrolment_changed`, :func:`course_changed`,
:func:`sync_courses` (terms and sections, docs/terms.md), :func:`join`, :func:`remove`,
:func:`notify_access_changed`, :func:`post_system_message`,
:func:`do_purge_expired` (the retention purge's scheduled job hook), plus the ``check_*``
functions a door would call.
"""

from smartcampus_chat.realtime.events import notify_access_changed
from smartcampus_chat.services.announcements import (
    AckResult,
    check_acknowledge,
    do_acknowledge,
    do_send_due_reminders,
)
from smartcampus_chat.services.anonymity import Revealed, check_reveal_author, do_reveal_author
from smartcampus_chat.services.attachments import check_enabled as check_attachments_enabled
from smartcampus_chat.services.attachments import (
    check_upload,
    check_withdraw_upload,
    do_purge_attachments,
    do_remove_attachments,
)
from smartcampus_chat.services.audit import note_private_read
from smartcampus_chat.services.batch import check_send_message, do_send_message
from smartcampus_chat.services.courses import (
    SyncCounts,
    enrolment_changed,
    ensure_course_room,
    join,
    remove,
    room_for_course,
    sync_course_rooms,
)
from smartcampus_chat.services.erasure import ErasureCounts, check_erase_user, do_erase_user
from smartcampus_chat.services.exports import (
    check_request_export,
    do_build_export,
    do_request_room_export,
    run_export_jobs,
)
from smartcampus_chat.services.file_sends import check_send_with_files
from smartcampus_chat.services.formatting import do_render_messages
from smartcampus_chat.services.link_previews import (
    check_remove_preview,
    do_fetch_preview,
    do_purge_preview_images,
    do_remove_preview,
    pending_previews,
)
from smartcampus_chat.services.members import (
    check_join_room,
    check_leave_room,
    check_remove_member,
    do_delete_member,
    do_join_room,
    do_leave_room,
    do_remove_member,
    do_set_role,
    do_unban_member,
)
from smartcampus_chat.services.message_search import check_search
from smartcampus_chat.services.messages import (
    SendResult,
    check_can_edit,
    check_delete_message,
    check_edit_message,
    do_delete_message,
    do_edit_message,
    do_restore_message,
    get_message_for,
)
from smartcampus_chat.services.notifications import (
    check_mark_notifications_read,
    check_set_room_notifications,
    room_notifications,
)
from smartcampus_chat.services.office_hours import (
    check_claim,
    check_close_office_hours,
    check_finish,
    check_leave_queue,
    check_open_office_hours,
    check_raise_hand,
    do_claim_entry,
    do_claim_next,
    do_close_office_hours,
    do_finish,
    do_leave_queue,
    do_open_office_hours,
    do_raise_hand,
)
from smartcampus_chat.services.pins import check_pin, do_pin
from smartcampus_chat.services.polls import (
    VoteResult,
    check_close_poll,
    check_poll_vote,
    do_close_poll,
    do_poll_vote,
)
from smartcampus_chat.services.preferences import (
    check_set_preferences,
    do_set_preferences,
    get_preferences,
)
from smartcampus_chat.services.questions import (
    check_endorse,
    check_resolve,
    check_vote,
    do_endorse,
    do_resolve,
    do_vote,
)
from smartcampus_chat.services.reactions import check_react, do_react
from smartcampus_chat.services.reads import check_mark_read, do_mark_read
from smartcampus_chat.services.reports import (
    check_report_message,
    check_resolve_report,
    do_report_message,
    do_resolve_report,
)
from smartcampus_chat.services.retention import (
    PurgeCounts,
    check_set_retention,
    do_purge_expired,
    do_set_retention,
)
from smartcampus_chat.services.rooms import (
    check_create_room,
    check_open_private,
    check_update_room,
    do_create_room,
    do_open_private,
    do_update_room,
    get_room_for,
    room_access,
)
from smartcampus_chat.services.sanctions import (
    check_ban_member,
    check_lift_ban,
    check_mute_member,
    check_set_role,
    check_unmute_member,
    do_ban_member,
    do_lift_ban,
    do_mute_member,
    do_set_member_role,
    do_unmute_member,
)
from smartcampus_chat.services.system_messages import post_system_message
from smartcampus_chat.services.terms import (
    CourseSyncCounts,
    course_changed,
    sync_course,
    sync_courses,
)
from smartcampus_chat.services.unsubscribe import check_unsubscribe, check_unsubscribe_token

__all__ = [
    "AckResult",
    "CourseSyncCounts",
    "ErasureCounts",
    "PurgeCounts",
    "Revealed",
    "SendResult",
    "SyncCounts",
    "VoteResult",
    "check_acknowledge",
    "check_attachments_enabled",
    "check_ban_member",
    "check_can_edit",
    "check_claim",
    "check_close_office_hours",
    "check_close_poll",
    "check_create_room",
    "check_delete_message",
    "check_edit_message",
    "check_endorse",
    "check_erase_user",
    "check_finish",
    "check_join_room",
    "check_leave_queue",
    "check_leave_room",
    "check_lift_ban",
    "check_mark_notifications_read",
    "check_mark_read",
    "check_mute_member",
    "check_open_office_hours",
    "check_open_private",
    "check_pin",
    "check_poll_vote",
    "check_raise_hand",
    "check_react",
    "check_remove_member",
    "check_remove_preview",
    "check_report_message",
    "check_request_export",
    "check_resolve",
    "check_resolve_report",
    "check_reveal_author",
    "check_search",
    "check_send_message",
    "check_send_with_files",
    "check_set_preferences",
    "check_set_retention",
    "check_set_role",
    "check_set_room_notifications",
    "check_unmute_member",
    "check_unsubscribe",
    "check_unsubscribe_token",
    "check_update_room",
    "check_upload",
    "check_vote",
    "check_withdraw_upload",
    "course_changed",
    "do_acknowledge",
    "do_ban_member",
    "do_build_export",
    "do_claim_entry",
    "do_claim_next",
    "do_close_office_hours",
    "do_close_poll",
    "do_create_room",
    "do_delete_member",
    "do_delete_message",
    "do_edit_message",
    "do_endorse",
    "do_erase_user",
    "do_fetch_preview",
    "do_finish",
    "do_join_room",
    "do_leave_queue",
    "do_leave_room",
    "do_lift_ban",
    "do_mark_read",
    "do_mute_member",
    "do_open_office_hours",
    "do_open_private",
    "do_pin",
    "do_poll_vote",
    "do_purge_attachments",
    "do_purge_expired",
    "do_purge_preview_images",
    "do_raise_hand",
    "do_react",
    "do_remove_attachments",
    "do_remove_member",
    "do_remove_preview",
    "do_render_messages",
    "do_report_message",
    "do_request_room_export",
    "do_resolve",
    "do_resolve_report",
    "do_restore_message",
    "do_reveal_author",
    "do_send_due_reminders",
    "do_send_message",
    "do_set_member_role",
    "do_set_preferences",
    "do_set_retention",
    "do_set_role",
    "do_unban_member",
    "do_unmute_member",
    "do_update_room",
    "do_vote",
    "enrolment_changed",
    "ensure_course_room",
    "get_message_for",
    "get_preferences",
    "get_room_for",
    "join",
    "note_private_read",
    "notify_access_changed",
    "pending_previews",
    "post_system_message",
    "remove",
    "room_access",
    "room_for_course",
    "room_notifications",
    "run_export_jobs",
    "sync_course",
    "sync_course_rooms",
    "sync_courses",
]
