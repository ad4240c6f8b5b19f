"""Message search, the rules: a search as typed (words, "phrases", -exclusions and
operators such as ``from:alice in:maths has:link``) read into a :class:`MessageSearch`,
and the cursor of its result pages. Pure: no database here (docs/search.md).

Unknown ``word:value`` pairs are text (a time "12:30", a URL), as in Slack and Zulip;
a known operator with a bad value is a :class:`~smartcampus_chat.exceptions.BadQuery`.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Literal

from django.utils.translation import gettext as _

from smartcampus_chat.conf import app_settings
from smartcampus_chat.exceptions import BadQuery, QueryTooLong

Order = Literal["relevance", "newest"]
ORDERS: tuple[Order, ...] = ("relevance", "newest")
#: What ``has:`` may ask for.
HAS_VALUES = ("link", "code")
#: Most words (terms, phrase words and exclusions together) one search may hold.
MAX_WORDS = 16

#: A token of the search: an optional "-", an optional ``name:``, then a quoted phrase (its
#: closing quote optional) or a run of non-space characters.
_TOKEN = re.compile(r'(-?)(?:([a-z]+):)?(?:"([^"]*)"?|(\S+))', re.IGNORECASE)
#: A word as both search engines cut text into words (letters and digits).
WORD = re.compile(r"[^\W_]+")
_OPERATORS = ("from", "in", "has", "after", "before", "mentions")


@dataclass(frozen=True)
class MessageSearch:
    """One search: what to match and where. Every word is lower case."""

    #: Words every result holds.
    terms: tuple[str, ...] = ()
    #: Runs of words every result holds in this order.
    phrases: tuple[tuple[str, ...], ...] = ()
    #: Words no result holds.
    excluded: tuple[str, ...] = ()
    #: A room's slug (``in:``, or the room the search box belongs to).
    room: str | None = None
    #: A sender's username (``from:``).
    author: str | None = None
    #: From this day on (inclusive, ``after:``), before this day (exclusive, ``before:``).
    after: dt.date | None = None
    before: dt.date | None = None
    has_link: bool = False
    has_code: bool = False
    #: ``mentions:me``: messages that mention the searcher.
    mentions_me: bool = False
    order: Order = "relevance"

    @property
    def has_text(self) -> bool:
        return bool(self.terms or self.phrases)

    @property
    def highlighted(self) -> tuple[str, ...]:
        """The words a snippet marks: the terms and the phrases' words."""
        return self.terms + tuple(word for phrase in self.phrases for word in phrase)


def words(text: str) -> tuple[str, ...]:
    """The lower-case words of ``text`` (what either engine would index)."""
    return tuple(word.casefold() for word in WORD.findall(text))


def _date(value: str, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        message = _("%(name)s must be a date written YYYY-MM-DD.") % {"name": name}
        raise BadQuery(message, fields={name: [message]}) from None


def _one(current: str | None, value: str, name: str) -> str:
    if current is not None and current != value:
        message = _("Only one %(name)s per search.") % {"name": name}
        raise BadQuery(message, fields={name: [message]})
    return value


def _operator(search: MessageSearch, name: str, value: str) -> MessageSearch:
    if not value:
        raise BadQuery(_("%(name)s: needs a value.") % {"name": name})
    if name == "from":
        return replace(search, author=_one(search.author, value.lstrip("@"), "from"))
    if name == "in":
        return replace(search, room=_one(search.room, value.lstrip("#"), "in"))
    if name == "after":
        return replace(search, after=_date(value, "after"))
    if name == "before":
        return replace(search, before=_date(value, "before"))
    if name == "mentions":
        if value.casefold() != "me":
            raise BadQuery(_("mentions: only mentions:me is supported."))
        return replace(search, mentions_me=True)
    has = value.casefold()
    if has not in HAS_VALUES:
        raise BadQuery(_("has: must be link or code."))
    if has == "link":
        return replace(search, has_link=True)
    return replace(search, has_code=True)


def parse_search(
    text: str,
    *,
    room: str | None = None,
    author: str | None = None,
    after: str | None = None,
    before: str | None = None,
    has: Iterable[str] = (),
    order: str = "relevance",
) -> MessageSearch:
    """Read the search ``text`` typed by a user, with the filters a door passes separately
    (the REST API's parameters, the room a search box belongs to): both say the same thing,
    and saying two different rooms (or authors) is a :class:`BadQuery`.

    Too long (``SEARCH_MAX_QUERY_LENGTH`` characters, or :data:`MAX_WORDS` words) is a
    :class:`QueryTooLong`; nothing to look for (no word and no filter) a :class:`BadQuery`.
    """
    if not isinstance(text, str):
        raise BadQuery()
    if len(text) > app_settings.SEARCH_MAX_QUERY_LENGTH:
        raise QueryTooLong(
            _("A search holds at most %(count)d characters.")
            % {"count": app_settings.SEARCH_MAX_QUERY_LENGTH}
        )
    if order not in ORDERS:
        raise BadQuery(_("order must be relevance or newest."), fields={"order": [order]})
    search = MessageSearch(order=order)  # type: ignore[arg-type]  # checked just above
    if room:
        search = replace(search, room=room)
    if author:
        search = replace(search, author=author)
    if after:
        search = replace(search, after=_date(after, "after"))
    if before:
        search = replace(search, before=_date(before, "before"))
    for value in has:
        search = _operator(search, "has", value)
    terms: list[str] = []
    phrases: list[tuple[str, ...]] = []
    excluded: list[str] = []
    for match in _TOKEN.finditer(text):
        minus, name, quoted, bare = match.groups()
        if name and name.casefold() in _OPERATORS and not minus:
            search = _operator(search, name.casefold(), quoted if quoted is not None else bare)
            continue
        found = words(match.group(0))
        if minus:
            excluded.extend(found)
        elif quoted is not None and len(found) > 1:
            phrases.append(found)
        else:
            terms.extend(found)
    if len(terms) + len(excluded) + sum(map(len, phrases)) > MAX_WORDS:
        raise QueryTooLong(_("A search holds at most %(count)d words.") % {"count": MAX_WORDS})
    search = replace(
        search,
        terms=tuple(dict.fromkeys(terms)),
        phrases=tuple(dict.fromkeys(phrases)),
        excluded=tuple(dict.fromkeys(excluded)),
    )
    if search.after and search.before and search.after >= search.before:
        raise BadQuery(_("after must be a day before before."))
    if search.excluded and not search.has_text:
        raise BadQuery(_("Add a word to look for: a search cannot only exclude words."))
    filters = (search.room, search.author, search.after, search.before)
    flags = (search.has_link, search.has_code, search.mentions_me)
    if not (search.has_text or any(filters) or any(flags)):
        raise BadQuery(_("Type something to search for."))
    return search


# --- Cursors ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchCursor:
    """Where the next page starts.

    Newest first: after message ``message_id`` (a keyset on the id). Best first: after
    ``offset`` results of the ranked window, the newest ``SEARCH_RANK_WINDOW`` matches up
    to message ``ceiling`` (the first page's newest match), so every page ranks the same
    set, however many messages arrive meanwhile; a page costs the same at any depth (the
    window is ranked whole each time, and is bounded).
    """

    message_id: int = 0
    offset: int = 0
    ceiling: int = 0

    def encode(self) -> str:
        raw = f"{self.message_id}:{self.offset}:{self.ceiling}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(value: str) -> SearchCursor:
    """A cursor :meth:`SearchCursor.encode` wrote; anything else is a :class:`BadQuery`."""
    bad = BadQuery(_("This cursor is not valid."), fields={"cursor": [_("Not valid.")]})
    if not isinstance(value, str) or len(value) > 100:
        raise bad
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise bad from None
    parts = raw.split(":")
    if len(parts) != 3 or not all(p.isascii() and p.isdigit() and len(p) < 20 for p in parts):
        raise bad
    message_id, offset, ceiling = map(int, parts)
    if max(message_id, ceiling) >= 2**63 or offset > 10**6:
        raise bad
    return SearchCursor(message_id, offset, ceiling)
