"""The one-click unsubscribe links of the e-mails the chat sends (RFC 8058).

A token is the person's id and what it turns off (the *purpose*, "email_digests"), signed
with the site's ``SECRET_KEY`` under a salt of its own, so no other signed value of the
site (a session, a password reset) can stand for it, nor a token for another purpose.

The token does not expire: a digest can sit in a mailbox for months and its link must
still work (mailbox providers require the one-click link to keep working, and a link that
fails is reported as spam instead). What it allows is harmless (turning e-mails *off*),
it names nobody in clear (the id is only inside the signed value, which anyone may read
but no one may forge), and rotating ``SECRET_KEY`` revokes every token
(``SECRET_KEY_FALLBACKS`` keeps the old ones working meanwhile).
"""

from __future__ import annotations

from typing import Literal, NamedTuple

from django.core import signing

#: What an unsubscribe link may turn off.
Purpose = Literal["email_digests"]
PURPOSES: tuple[Purpose, ...] = ("email_digests",)

_SALT = "smartcampus_chat.unsubscribe"


class Unsubscribe(NamedTuple):
    """What a valid token asks: turn ``purpose`` off for the user ``user_id``."""

    user_id: int
    purpose: Purpose


def unsubscribe_token(user_id: int, purpose: Purpose = "email_digests") -> str:
    """The token of ``user_id``'s link that turns ``purpose`` off (URL-safe, no "/")."""
    return signing.Signer(salt=_SALT).sign_object({"u": user_id, "p": purpose})


def read_unsubscribe_token(token: str) -> Unsubscribe | None:
    """What ``token`` asks, or None when it is not one this site signed for a known purpose."""
    try:
        value = signing.Signer(salt=_SALT).unsign_object(token)
    except (signing.BadSignature, ValueError, UnicodeError):
        return None
    if not isinstance(value, dict):
        return None
    user_id, purpose = value.get("u"), value.get("p")
    if not isinstance(user_id, int) or isinstance(user_id, bool) or user_id < 1:
        return None
    for known in PURPOSES:
        if purpose == known:
            return Unsubscribe(user_id, known)
    return None
