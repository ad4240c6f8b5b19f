"""Errors raised by the services; every door turns them into its own error shape.

Each error has a stable ``code`` (the same string in HTTP JSON bodies and WebSocket error
frames) and the HTTP status the REST API answers with.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


class ChatError(Exception):
    code = "error"
    status = 400
    default_message = _("The request could not be processed.")
    #: Seconds after which trying again may succeed (None: it will not by waiting).
    retry_after: float | None = None

    def __init__(
        self,
        message: str | None = None,
        *,
        fields: dict[str, list[str]] | None = None,
        retry_after: float | None = None,
    ):
        self.message = str(message or self.default_message)
        self.fields = fields or {}
        if retry_after is not None:
            self.retry_after = retry_after
        super().__init__(self.message)


class NotFound(ChatError):
    """The object does not exist *or* the user may not see it: the two look the same."""

    code = "not_found"
    status = 404
    default_message = _("Not found.")


class PermissionDenied(ChatError):
    """The user may see the object but not do this to it."""

    code = "forbidden"
    status = 403
    default_message = _("You are not allowed to do this.")


class ValidationFailed(ChatError):
    code = "invalid"
    status = 400
    default_message = _("Invalid input.")


class TooManyMentions(ValidationFailed):
    code = "too_many_mentions"
    default_message = _("This message mentions too many people.")


class MentionNotAllowed(PermissionDenied):
    code = "mention_not_allowed"
    default_message = _("You may not mention everyone in this room.")


class AnnouncementNotAllowed(PermissionDenied):
    code = "announcement_not_allowed"
    default_message = _("Only the room's moderators post announcements.")


class NotQaRoom(ValidationFailed):
    code = "not_qa_room"
    default_message = _("This room is not in Q&A mode.")


class NotAQuestion(ValidationFailed):
    code = "not_a_question"
    default_message = _("This message is not a question.")


class NotAnAnswer(ValidationFailed):
    code = "not_an_answer"
    default_message = _("This message is not an answer to a question.")


class OwnQuestion(PermissionDenied):
    code = "own_question"
    default_message = _("You cannot up-vote your own question.")


class AnonymousNotAllowed(PermissionDenied):
    """Posting anonymously where the room does not allow it, or as a moderator or staff
    (their posts are never anonymous)."""

    code = "anonymous_not_allowed"
    default_message = _("You cannot post anonymously here.")


class PollNotAllowed(PermissionDenied):
    code = "poll_not_allowed"
    default_message = _("You may not post a poll in this room.")


class PollClosed(ChatError):
    code = "poll_closed"
    status = 409
    default_message = _("This poll is closed.")


class InvalidOption(ValidationFailed):
    code = "invalid_option"
    default_message = _("Choose among the poll's options.")


class TooManyOptions(ValidationFailed):
    code = "too_many_options"
    default_message = _("A poll has too many options.")


class BadQuery(ValidationFailed):
    """A message search that cannot run: nothing to look for, an unknown operator, a
    malformed date or cursor."""

    code = "bad_query"
    default_message = _("This search cannot be understood.")


class QueryTooLong(ValidationFailed):
    code = "query_too_long"
    default_message = _("This search is too long.")


class RateLimited(ChatError):
    code = "rate_limited"
    status = 429
    default_message = _("You are sending too fast; slow down.")
    retry_after = 1.0


class Muted(ChatError):
    """A moderator muted the user in this room: they read, but neither post nor react.
    ``retry_after``: the seconds until the mute ends (None: indefinitely)."""

    code = "muted"
    status = 403
    default_message = _("A moderator muted you in this room.")


class RoomLocked(ChatError):
    code = "room_locked"
    status = 403
    default_message = _("This room is locked: only its moderators post.")


class CourseEnded(ChatError):
    """The room's course has ended: the room is read-only for everyone (docs/terms.md)."""

    code = "course_ended"
    status = 403
    default_message = _("This course has ended: its room is read-only.")


class SlowMode(RateLimited):
    """The room's slow mode: one message per ``slow_mode_seconds`` per member."""

    code = "slow_mode"
    default_message = _("This room is in slow mode: wait before sending again.")


class RoomArchived(ChatError):
    code = "room_archived"
    status = 409
    default_message = _("This room is archived and read-only.")


class MessageGone(ChatError):
    """The message was deleted: it can no longer be edited (its content stays hidden)."""

    code = "message_deleted"
    status = 409
    default_message = _("This message was deleted.")


class ServiceUnavailable(ChatError):
    """A backing service (database, cache, channel layer) cannot be reached: retry later.

    Doors answer with it for errors :func:`smartcampus_chat.infra.outages.is_unavailable`
    recognises. Retrying is safe: a send retried with its ``client_id`` is stored at most
    once, even if the first attempt was committed before the connection broke.
    """

    code = "unavailable"
    status = 503
    default_message = _("The chat is briefly unavailable; try again in a moment.")
    retry_after = 1.0


class FileRefused(ChatError):
    """An uploaded file was refused (its size, type, content, a scan): a form shows it on
    its file field."""


class FileTooLarge(FileRefused):
    code = "file_too_large"
    status = 413
    default_message = _("This file is larger than the limit.")


class UploadQuotaExceeded(FileRefused):
    code = "upload_quota_exceeded"
    status = 413
    default_message = _("You have uploaded as much as you may today; try again tomorrow.")


class UnsupportedFileType(FileRefused):
    """The type found in the file's content (never its name) is not on the allow-list."""

    code = "unsupported_file_type"
    status = 415
    default_message = _("Files of this type cannot be shared here.")


class InvalidImage(FileRefused):
    code = "invalid_image"
    status = 422
    default_message = _("This image cannot be read.")


class ImageTooLarge(FileRefused):
    """More pixels than ``ATTACHMENT_MAX_PIXELS`` (a decompression bomb, or a huge scan)."""

    code = "image_too_large"
    status = 422
    default_message = _("This image has too many pixels.")


class InfectedFile(FileRefused):
    code = "infected_file"
    status = 422
    default_message = _("This file was refused by the virus scanner.")


class ScanUnavailable(ServiceUnavailable):
    """The virus scanner cannot be reached: the upload is refused (fail closed)."""

    code = "scan_unavailable"
    default_message = _("Files cannot be checked right now; try again in a moment.")


class AttachmentNotFound(ValidationFailed):
    """A send names an upload that is not the sender's, not in that room, or sent already."""

    code = "attachment_not_found"
    default_message = _("One of the attached files is not available; upload it again.")


class TooManyAttachments(ValidationFailed):
    code = "too_many_attachments"
    default_message = _("This message has too many attached files.")


class PushUnavailable(ChatError):
    """Web Push is off on this site (``NOTIFY_PUSH``, the VAPID keys): nothing to subscribe to."""

    code = "push_unavailable"
    status = 409
    default_message = _("Push notifications are not available on this site.")


class PushEndpointNotAllowed(ValidationFailed):
    """A subscription's endpoint is not https to a known push service
    (``WEB_PUSH_ALLOWED_HOSTS``): the server never POSTs there."""

    code = "push_endpoint_not_allowed"
    default_message = _("This browser's push service is not accepted by this site.")


class InvalidPushKeys(ValidationFailed):
    code = "invalid_push_keys"
    default_message = _("This browser's push subscription keys are not valid.")


class ExportPending(ChatError):
    """An export of the person's data is being prepared already: one at a time."""

    code = "export_pending"
    status = 409
    default_message = _("Your previous export is still being prepared.")


class ExportLimitReached(RateLimited):
    """``EXPORT_MAX_PER_DAY`` exports asked for in the last 24 hours."""

    code = "export_limit_reached"
    default_message = _("You have asked for as many exports as you may today; try again later.")


class ExportGone(ChatError):
    """The export's one download happened, or it expired: ask for a new one."""

    code = "export_gone"
    status = 410
    default_message = _(
        "This export was already downloaded or has expired; you can ask for a new one."
    )


class BlockedContent(ChatError):
    """The message has a word or phrase the site's or the room's word filter refuses."""

    code = "blocked_content"
    status = 422
    default_message = _("This message contains words that are not allowed here.")


class HeldForReview(ChatError):
    """The word filter held the message for the room's moderators: it is not sent, and
    will be posted only if a moderator approves it (the author is told)."""

    code = "held_for_review"
    status = 422
    default_message = _("This message was held for a moderator's review; it is not sent yet.")


class AlreadyReported(ChatError):
    code = "already_reported"
    status = 409
    default_message = _("You have already reported this message.")


class OfficeHoursClosed(ValidationFailed):
    """A queue action in a room whose office hours are not open (docs/office-hours.md)."""

    code = "office_hours_closed"
    default_message = _("Office hours are not open in this room.")
