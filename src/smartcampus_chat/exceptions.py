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


class InfectedFile(ChatError):
    """The upload scanner (``ATTACHMENT_SCANNER``) found malware in a file."""

    code = "infected_file"
    status = 422
    default_message = _("This file was refused by the virus scan.")


class ScanUnavailable(ServiceUnavailable):
    """The upload scanner could not give a verdict (down, too slow, an error): the file
    is refused, never let through unscanned."""

    code = "scan_unavailable"
    default_message = _("Files cannot be checked for viruses right now; try again later.")
    retry_after = 30.0
