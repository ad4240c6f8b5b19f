"""Turning e-mail digests off from the link in a digest, signed in or not.

The signed token (:mod:`smartcampus_chat.domain.unsubscribe`) is the permission: whoever
holds the e-mail may turn its e-mails off, which is what RFC 8058's one-click unsubscribe
asks (the mail client's POST carries no session and no CSRF token).
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _

from smartcampus_chat.domain.unsubscribe import Unsubscribe, read_unsubscribe_token
from smartcampus_chat.exceptions import ValidationFailed
from smartcampus_chat.models import ChatPreferences
from smartcampus_chat.services.preferences import do_set_preferences


class BadUnsubscribeLink(ValidationFailed):
    code = "bad_unsubscribe_link"


def check_unsubscribe_token(token: str) -> Unsubscribe:
    """What ``token`` asks; :class:`BadUnsubscribeLink` (400) when it is not a link this
    site signed, or its person no longer exists. Changes nothing (the GET page)."""
    request = read_unsubscribe_token(token)
    if request is None or not get_user_model().objects.filter(pk=request.user_id).exists():
        raise BadUnsubscribeLink(_("This unsubscribe link is not valid."))
    return request


def check_unsubscribe(token: str) -> ChatPreferences:
    """Turn off what ``token`` asks (e-mail digests) for its person: one click, no login."""
    request = check_unsubscribe_token(token)
    user = get_user_model()(pk=request.user_id)
    changes: dict[str, bool] = {request.purpose: False}
    return do_set_preferences(user, **changes)
