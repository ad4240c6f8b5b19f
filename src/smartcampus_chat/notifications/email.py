"""The e-mail channel: one digest per person for all of their rows in a batch.

The worker (:mod:`smartcampus_chat.notifications.worker`) calls :func:`deliver` with the
claimed e-mail deliveries that are due. Mail goes through the site's e-mail backend, one
connection for the whole batch: Django 6.1's default mailer (``MAILERS["default"]``), or
``EMAIL_BACKEND`` and the ``EMAIL_*`` settings before it; SMTP, or an API provider
through django-anymail. What each row becomes:

- "sent": its digest was accepted by the backend (the SMTP server, the provider's API);
- "skipped": its person has no e-mail address;
- "failed": refused for good for this recipient (an SMTP 5xx answer to the recipient or
  the message; anymail's "recipients refused"), trying again would not help;
- "retry": the mail system could not take it now (connection refused or lost, a 4xx
  answer, a timeout, a provider's API error, the site's address unset): the worker tries
  again later, up to ``NOTIFY_MAX_ATTEMPTS``.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Sequence
from typing import Any

from django.core import mail
from django.core.mail import EmailMessage

from smartcampus_chat.notifications.channels import Outcome, Pending
from smartcampus_chat.notifications.digest import NoSiteAddress, build_digest, email_address

logger = logging.getLogger(__name__)

#: The SMTP answer of a server closing the connection ("421 Service not available").
_CLOSING = 421
#: ``ChatNotificationDelivery.detail``'s size.
_DETAIL_CHARS = 200


def deliver(batch: list[Pending]) -> dict[int, Outcome]:
    """Send ``batch`` (claimed e-mail deliveries): one digest per person; outcomes by
    delivery id, one for every row."""
    outcomes: dict[int, Outcome] = {}
    people: dict[int, list[Pending]] = {}
    for pending in batch:
        people.setdefault(pending.delivery.notification.user_id, []).append(pending)
    digests: list[tuple[list[int], EmailMessage]] = []
    for rows in people.values():
        ids = [row.delivery.pk for row in rows]
        if not email_address(rows[0].delivery.notification.user):
            _record(outcomes, ids, Outcome("skipped", "no e-mail address"))
            continue
        try:
            digests.append((ids, build_digest(rows)))
        except NoSiteAddress as exc:
            _record(outcomes, ids, Outcome("retry", _detail(exc)))
    if digests:
        _send(digests, outcomes)
    return outcomes


def _send(digests: Sequence[tuple[list[int], EmailMessage]], outcomes: dict[int, Outcome]) -> None:
    """Send each digest on one connection; a lost connection leaves the rest to retry."""
    try:
        connection = _connection()
        connection.open()
    except Exception as exc:  # the backend's own errors: OSError, SMTPException, API errors
        logger.warning("E-mail digests: cannot reach the mail system: %s", exc)
        for ids, _digest in digests:
            _record(outcomes, ids, Outcome("retry", _detail(exc)))
        return
    try:
        for index, (ids, digest) in enumerate(digests):
            outcome, connection_lost = _send_one(connection, digest)
            _record(outcomes, ids, outcome)
            if connection_lost:
                for rest, _digest in digests[index + 1 :]:
                    _record(outcomes, rest, Outcome("retry", outcome.detail))
                break
    finally:
        try:
            connection.close()
        except Exception:  # closing a broken connection: nothing left to lose
            logger.debug("E-mail digests: closing the connection failed", exc_info=True)


def _connection() -> Any:
    """A connection of the site's default mailer (not yet open)."""
    mailers = getattr(mail, "mailers", None)  # Django 6.1: MAILERS
    if mailers is not None:
        return mailers.default
    return mail.get_connection(fail_silently=False)


def _send_one(connection: Any, message: EmailMessage) -> tuple[Outcome, bool]:
    """The outcome of sending ``message``, and whether the connection is lost."""
    try:
        sent = connection.send_messages([message])
    except smtplib.SMTPServerDisconnected as exc:
        return _lost(exc), True
    except smtplib.SMTPException as exc:  # an answer of the server (SMTPException is an OSError)
        # 421: the server is closing the connection.
        return _failure(exc), getattr(exc, "smtp_code", None) == _CLOSING
    except OSError as exc:  # refused, reset, timed out
        return _lost(exc), True
    except Exception as exc:  # the backend's own errors (an API provider's): see _failure
        return _failure(exc), False
    if not sent:
        return Outcome("retry", "the e-mail backend sent nothing"), False
    if _refused_by_provider(message):
        return Outcome("failed", "refused by the e-mail provider"), False
    return Outcome("sent"), False


def _lost(exc: Exception) -> Outcome:
    logger.warning("E-mail digests: connection lost: %s", exc)
    return Outcome("retry", _detail(exc))


def _failure(exc: Exception) -> Outcome:
    """Whether ``exc``, raised sending one digest, is for good ("failed") or not ("retry")."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _text in exc.recipients.values()]
        permanent = bool(codes) and all(500 <= code < 600 for code in codes)
        return Outcome("failed" if permanent else "retry", _detail(exc))
    if isinstance(exc, smtplib.SMTPSenderRefused):
        # The site's own address refused: its configuration, not the recipient; retried
        # (and logged) until the attempts run out, in case it is fixed meanwhile.
        logger.error("E-mail digests: the sender address is refused: %s", exc)
        return Outcome("retry", _detail(exc))
    if isinstance(exc, smtplib.SMTPResponseException):
        return Outcome("failed" if 500 <= exc.smtp_code < 600 else "retry", _detail(exc))
    if any(cls.__name__ == "AnymailRecipientsRefused" for cls in type(exc).__mro__):
        return Outcome("failed", _detail(exc))
    logger.warning("E-mail digests: sending failed: %r", exc)
    return Outcome("retry", _detail(exc))


def _refused_by_provider(message: EmailMessage) -> bool:
    """django-anymail told to ignore refused recipients (``ANYMAIL_IGNORE_RECIPIENT_STATUS``)
    marks them on the message instead of raising."""
    status = getattr(getattr(message, "anymail_status", None), "status", None)
    return isinstance(status, set) and bool(status) and status <= {"rejected", "invalid"}


def _detail(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:_DETAIL_CHARS]


def _record(outcomes: dict[int, Outcome], ids: list[int], outcome: Outcome) -> None:
    for delivery_id in ids:
        outcomes[delivery_id] = outcome
