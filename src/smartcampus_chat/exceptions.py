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
