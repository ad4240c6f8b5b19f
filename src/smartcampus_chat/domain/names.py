"""Names: what the chat shows for a person, and the names people choose for rooms.

People
------
:func:`display_name` is the one name every door shows for a user (pages, frames, the
REST API, room-list previews, the people directory, private-room titles). It calls the
host's ``SMARTCAMPUS_CHAT["DISPLAY_NAME"]`` callable (default
:func:`full_name_or_username`). They are written in :mod:`smartcampus_chat.identity`, the
bottom layer, so that the protocol's renderers (which may not import ``domain``) use the
same function; hosts and the chat's own code import them from here.
:func:`public_username` is the login identifier when the host says it may be shown
(``EXPOSE_USERNAME``), else None: with an e-mail login the identifier is an e-mail
address, which a university's privacy review does not let a chat show to every student.

Messages
--------
:func:`author_name` is the name a message is shown under: its sender's
:func:`display_name`, the site's name (``SITE_NAME``) for a system message, "Former member"
when the account is gone, "Anonymous classmate" for an anonymous post
(docs/anonymous-posts.md). The browser client applies the same rule (``authorName`` in
``js/chat/i18n.js``).

Rooms
-----
:func:`room_title` is what one viewer calls a room: a private room is titled with the
other person's :func:`display_name`, any other room with its name.

Room names
----------

Why: a room name that differs from another only by a zero-width space, a bidi override or
fullwidth letters looks the same in every list, so a member can be lured into the wrong
room; and a name of only invisible characters shows as an empty line. Every door that
takes a room name (REST create and rename, HTML forms, the admin) goes through
:func:`normalise_name`, and the services refuse a name whose :func:`skeleton` equals that
of another room the user can see in the same scope.

:func:`normalise_name`
    Unicode NFKC (fullwidth letters become ASCII ones, ligatures are split);
    format characters (category Cf: zero-width space and joiners, bidi embeddings,
    overrides and isolates, the BOM, the soft hyphen...) and other invisible fillers
    removed; control characters and runs of white space of any kind become one space;
    leading and trailing space removed. The result is what is stored and shown.

:func:`is_visible`
    Whether a normal form shows anything: at least one letter, number, punctuation or
    symbol that is not one of the blank fillers below.

:func:`skeleton`
    A small, documented subset of the Unicode TR39 "skeleton" (no new dependency): the
    normal form, case-folded, decomposed (NFKD) with its combining marks dropped
    (``Café`` ~ ``Cafe``), then the Cyrillic and Greek letters that look like Latin ones,
    and the digits ``0`` and ``1``, mapped to the Latin letter they imitate
    (:data:`CONFUSABLES`). Two names with the same skeleton are
    look-alikes. It is deliberately broader than identity and narrower than TR39's full
    table (no mixed-script rules, no rarely seen scripts): a refused name can always be
    told apart by a real word.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext

from smartcampus_chat.conf import app_settings
from smartcampus_chat.domain.anonymity import ANONYMOUS_NAME
from smartcampus_chat.identity import (
    anonymous_name,
    display_name,
    full_name_or_username,
    login_is_email,
    public_username,
    username_is_public,
)
from smartcampus_chat.models import ChatMessage, ChatRoom, MessageKind, RoomType

__all__ = [
    "CONFUSABLES",
    "INVISIBLE",
    "anonymous_name",
    "display_name",
    "full_name_or_username",
    "is_visible",
    "login_is_email",
    "normalise_name",
    "private_member_ids",
    "public_username",
    "room_title",
    "skeleton",
    "username_is_public",
]

#: Characters that render as nothing or as a blank, without being Cf or white space.
INVISIBLE = frozenset(
    "\u034f"  # combining grapheme joiner
    "\u115f\u1160"  # Hangul choseong / jungseong fillers
    "\u17b4\u17b5"  # Khmer inherent vowels
    "\u2800"  # braille pattern blank
    "\u3164"  # Hangul filler
    "\uffa0"  # halfwidth Hangul filler
    "\ufe00\ufe01\ufe02\ufe03\ufe04\ufe05\ufe06\ufe07"  # variation selectors 1-8
    "\ufe08\ufe09\ufe0a\ufe0b\ufe0c\ufe0d\ufe0e\ufe0f"  # variation selectors 9-16
)

#: Look-alikes of Latin letters (after case folding), a subset of Unicode's
#: confusables.txt for the scripts a campus sees most: Cyrillic, Greek, and digits.
CONFUSABLES = str.maketrans(
    {
        # Cyrillic
        "\u0430": "a",  # cyrillic small letter a
        "\u0432": "b",  # cyrillic small letter ve
        "\u0441": "c",  # cyrillic small letter es
        "\u0501": "d",  # cyrillic small letter komi de
        "\u0435": "e",  # cyrillic small letter ie
        "\u0451": "e",  # cyrillic small letter io
        "\u04bb": "h",  # cyrillic small letter shha
        "\u0456": "i",  # cyrillic small letter byelorussian-ukrainian i
        "\u0457": "i",  # cyrillic small letter yi
        "\u0458": "j",  # cyrillic small letter je
        "\u043a": "k",  # cyrillic small letter ka
        "\u04cf": "l",  # cyrillic small letter palochka
        "\u043c": "m",  # cyrillic small letter em
        "\u043d": "h",  # cyrillic small letter en
        "\u043e": "o",  # cyrillic small letter o
        "\u0440": "p",  # cyrillic small letter er
        "\u051b": "q",  # cyrillic small letter qa
        "\u0455": "s",  # cyrillic small letter dze
        "\u0442": "t",  # cyrillic small letter te
        "\u0443": "y",  # cyrillic small letter u
        "\u04af": "y",  # cyrillic small letter straight u
        "\u051d": "w",  # cyrillic small letter we
        "\u0445": "x",  # cyrillic small letter ha
        "\u0261": "g",  # latin small letter script g
        # Greek
        "\u03b1": "a",  # greek small letter alpha
        "\u03b2": "b",  # greek small letter beta
        "\u03b5": "e",  # greek small letter epsilon
        "\u03b7": "n",  # greek small letter eta
        "\u03b9": "i",  # greek small letter iota
        "\u03ba": "k",  # greek small letter kappa
        "\u03bc": "u",  # greek small letter mu
        "\u03bd": "v",  # greek small letter nu
        "\u03bf": "o",  # greek small letter omicron
        "\u03c1": "p",  # greek small letter rho
        "\u03c4": "t",  # greek small letter tau
        "\u03c5": "u",  # greek small letter upsilon
        "\u03c7": "x",  # greek small letter chi
        "\u03b3": "y",  # greek small letter gamma
        # Digits and Latin letters that imitate others
        "0": "o",
        "1": "l",
        "\u0131": "i",  # latin small letter dotless i
    }
)

_VISIBLE_CATEGORIES = ("L", "N", "P", "S")


def _is_dropped(char: str) -> bool:
    return char in INVISIBLE or unicodedata.category(char) == "Cf"


def normalise_name(value: str) -> str:
    """The form of a name that is stored and shown (see the module's docstring)."""
    text = unicodedata.normalize("NFKC", value)
    kept = []
    for char in text:
        if _is_dropped(char):
            continue
        if char.isspace() or unicodedata.category(char) in ("Cc", "Zl", "Zp", "Zs"):
            kept.append(" ")
        else:
            kept.append(char)
    return re.sub(" +", " ", "".join(kept)).strip()


def is_visible(name: str) -> bool:
    """Whether ``name`` (a normal form) has at least one character that shows."""
    return any(
        unicodedata.category(char)[0] in _VISIBLE_CATEGORIES and char not in INVISIBLE
        for char in name
    )


def skeleton(name: str) -> str:
    """The look-alike key of ``name``: equal keys, confusable names."""
    text = unicodedata.normalize("NFKD", normalise_name(name).casefold())
    text = "".join(char for char in text if not unicodedata.combining(char))
    return " ".join(text.translate(CONFUSABLES).split())


def author_name(message: ChatMessage) -> str:
    """The name ``message`` is shown under (its sender should be loaded with it)."""
    if message.kind == MessageKind.SYSTEM:
        return gettext(app_settings.SITE_NAME)
    if message.anonymous:
        return str(ANONYMOUS_NAME)
    if message.sender is None:
        return gettext("Former member")
    return display_name(message.sender)


def private_member_ids(room: ChatRoom) -> list[int]:
    """The two users' ids of a private room (from its ``private_key``, "low:high")."""
    return [int(part) for part in (room.private_key or "").split(":") if part.isdigit()]


def room_title(room: ChatRoom, viewer: Any, people: Mapping[int, Any]) -> str:
    """What ``viewer`` calls ``room``: a private room is titled with the other person's
    :func:`display_name` (both, for staff reading someone else's conversation), any other
    room with its name. ``people``: users by id, holding the private room's members."""
    if room.room_type != RoomType.PRIVATE:
        return room.name
    others = [people[pk] for pk in private_member_ids(room) if pk != viewer.pk and pk in people]
    return " & ".join(display_name(other) for other in others) or room.name
