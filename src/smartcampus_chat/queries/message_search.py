"""Message search, the read (docs/search.md): the messages a user may read that match a
:class:`~smartcampus_chat.domain.message_search.MessageSearch`, ranked, a keyset page at
a time, each with a snippet.

Access is decided at query time: the rooms searched are the rooms the user joined and may
still see (:func:`~smartcampus_chat.queries.rooms.readable_rooms`, the room list's rule),
or the one room named, if they may see it. Deleted messages never match; an edited one
matches its current text (both indexes follow ``content``).

Queries per page: the rooms (the policy's one or two), the page, and the titles of the
private rooms on it (none without): fixed whatever the page holds.

The text match per database:

- PostgreSQL: ``to_tsvector(SEARCH_CONFIG, content) @@ query`` (the expression of the GIN
  index of migration 0008), ranked by ``ts_rank``;
- SQLite: the FTS5 table ``smartcampus_chat_message_fts``, ranked by ``bm25()``;
- any other database: ``icontains`` per word, unranked (correct, not fast).

Pages: ordered by rank (higher first) then message id (newer first); the cursor is the
last result's ``(rank, id)``, so a page costs the same however deep. ``order="newest"``
orders by id alone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connections
from django.db.models import FloatField, Q, QuerySet, Value
from django.urls import reverse
from django.utils import timezone

from smartcampus_chat.conf import app_settings
from smartcampus_chat.domain.message_search import (
    MessageSearch,
    SearchCursor,
    decode_cursor,
    parse_search,
)
from smartcampus_chat.domain.validation import clean_int
from smartcampus_chat.exceptions import UnsupportedFilter
from smartcampus_chat.markup import plain_text
from smartcampus_chat.markup.snippets import snippet_html
from smartcampus_chat.models import ChatMessage, ChatRoom
from smartcampus_chat.protocol.payloads import SearchHitData
from smartcampus_chat.protocol.render import search_hit_data
from smartcampus_chat.queries.rooms import readable_rooms, room_for, room_titles

FTS_TABLE = "smartcampus_chat_message_fts"


@dataclass(frozen=True)
class SearchHit:
    message: ChatMessage
    #: What the searcher calls the message's room.
    room_title: str
    #: Escaped text with the searched words in ``<mark>`` (markup.snippets).
    snippet_html: str
    #: The message in its room (the permalink ``?message=<id>``).
    url: str
    rank: float


@dataclass(frozen=True)
class SearchPage:
    hits: list[SearchHit]
    #: The cursor of the next page (None: this is the last).
    next_cursor: str | None


def page_size(value: Any) -> int:
    """Results per page: ``SEARCH_PAGE_SIZE`` unless given; capped by
    ``SEARCH_MAX_PAGE_SIZE``; malformed is ``ValidationFailed``."""
    if value is None or value == "":
        return app_settings.SEARCH_PAGE_SIZE
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    return min(clean_int(value, "limit", minimum=1), app_settings.SEARCH_MAX_PAGE_SIZE)


def mentioning(messages: QuerySet[ChatMessage], user: Any) -> QuerySet[ChatMessage]:
    """``mentions:me``: the messages that mention ``user``. Mentions are not stored on
    this branch yet (issue #18, @mentions): refused until the mentions table exists."""
    raise UnsupportedFilter()


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_current_timezone())


def _filtered(user: Any, search: MessageSearch, room_ids: list[int]) -> QuerySet[ChatMessage]:
    messages = ChatMessage.objects.filter(room_id__in=room_ids, is_deleted=False)
    if search.author is not None:
        username = get_user_model().USERNAME_FIELD
        messages = messages.filter(**{f"sender__{username}": search.author})
    if search.after is not None:
        messages = messages.filter(created_at__gte=_day_start(search.after))
    if search.before is not None:
        messages = messages.filter(created_at__lt=_day_start(search.before))
    # Decided from the stored HTML, no flag to keep: these only narrow the rows the text
    # match (or the room, author and dates) found already.
    if search.has_link:
        messages = messages.filter(content_html__contains="<a ")
    if search.has_code:
        messages = messages.filter(content_html__contains="<code")
    if search.mentions_me:
        messages = mentioning(messages, user)
    return messages


def _postgresql(messages: QuerySet[ChatMessage], search: MessageSearch) -> QuerySet[ChatMessage]:
    # Imported here: django.contrib.postgres needs psycopg, which a SQLite site may lack.
    from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
    from django.db.models.functions import Cast

    config = app_settings.SEARCH_CONFIG
    parts = []
    if search.terms:
        parts.append(SearchQuery(" ".join(search.terms), config=config, search_type="plain"))
    parts += [SearchQuery(" ".join(p), config=config, search_type="phrase") for p in search.phrases]
    parts += [~SearchQuery(word, config=config, search_type="plain") for word in search.excluded]
    query = parts[0]
    for part in parts[1:]:
        query = query & part
    vector = SearchVector("content", config=config)
    return (
        messages.alias(search_vector=vector)
        .filter(search_vector=query)
        # ts_rank is a real: as double precision its value round-trips through a cursor.
        .annotate(rank=Cast(SearchRank(vector, query), FloatField()))
    )


def _quoted(words: tuple[str, ...]) -> str:
    # Words are letters and digits only (domain.message_search.WORD): no quote to escape.
    return '"' + " ".join(words) + '"'


def fts5_query(search: MessageSearch) -> str:
    """The FTS5 MATCH expression: each term and phrase quoted (FTS5 reads nothing in a
    quoted string as syntax), exclusions as ``NOT``."""
    match = " ".join([_quoted((t,)) for t in search.terms] + list(map(_quoted, search.phrases)))
    return match + "".join(f" NOT {_quoted((word,))}" for word in search.excluded)


def _sqlite(messages: QuerySet[ChatMessage], search: MessageSearch) -> QuerySet[ChatMessage]:
    table = ChatMessage._meta.db_table
    return messages.extra(  # noqa: S610 - fixed SQL; the user's words are a parameter
        select={"rank": f"-bm25({FTS_TABLE})"},
        tables=[FTS_TABLE],
        where=[f"{FTS_TABLE}.rowid = {table}.id", f"{FTS_TABLE} MATCH %s"],
        params=[fts5_query(search)],
    )


def _anywhere(messages: QuerySet[ChatMessage], search: MessageSearch) -> QuerySet[ChatMessage]:
    for word in search.terms:
        messages = messages.filter(content__icontains=word)
    for phrase in search.phrases:
        messages = messages.filter(content__icontains=" ".join(phrase))
    for word in search.excluded:
        messages = messages.exclude(content__icontains=word)
    return messages.annotate(rank=Value(0.0, output_field=FloatField()))


def _matching(messages: QuerySet[ChatMessage], search: MessageSearch) -> QuerySet[ChatMessage]:
    if not search.has_text:
        return messages.annotate(rank=Value(0.0, output_field=FloatField()))
    vendor = connections[messages.db].vendor
    if vendor == "postgresql":
        return _postgresql(messages, search)
    if vendor == "sqlite":
        return _sqlite(messages, search)
    return _anywhere(messages, search)


def _after(
    messages: QuerySet[ChatMessage], cursor: SearchCursor, ranked: bool
) -> QuerySet[ChatMessage]:
    if not ranked:
        return messages.filter(pk__lt=cursor.message_id)
    if connections[messages.db].vendor == "sqlite":
        rank = f"-bm25({FTS_TABLE})"
        table = ChatMessage._meta.db_table
        return messages.extra(  # noqa: S610 - fixed SQL, parameters
            where=[f"({rank} < %s OR ({rank} = %s AND {table}.id < %s))"],
            params=[cursor.rank, cursor.rank, cursor.message_id],
        )
    return messages.filter(
        Q(rank__lt=cursor.rank) | Q(rank=cursor.rank, pk__lt=cursor.message_id)
    )


def _rooms(user: Any, search: MessageSearch) -> list[ChatRoom]:
    if search.room is not None:
        room, _access = room_for(user, search.room)
        return [room]
    return list(readable_rooms(user).order_by())


def search_messages(
    user: Any, search: MessageSearch, *, cursor: str | None = None, limit: Any = None
) -> SearchPage:
    """A page of the messages ``user`` may read that match ``search``, best first (or
    newest first), after ``cursor`` (a page's ``next_cursor``). ``NotFound`` for a room
    the user may not see; ``BadQuery`` for a malformed cursor."""
    size = page_size(limit)
    after = decode_cursor(cursor) if cursor else None
    rooms = {room.pk: room for room in _rooms(user, search)}
    if not rooms:
        return SearchPage([], None)
    ranked = search.has_text and search.order == "relevance"
    messages = _matching(_filtered(user, search, list(rooms)), search)
    if after is not None:
        messages = _after(messages, after, ranked)
    order = ("-rank", "-pk") if ranked else ("-pk",)
    rows = list(messages.select_related("sender").order_by(*order)[: size + 1])
    page = rows[:size]
    titles = room_titles(user, {rooms[m.room_id] for m in page}) if page else {}
    hits = []
    for message in page:
        room = rooms[message.room_id]
        message.room = room
        url = f"{reverse('smartcampus_chat:room', kwargs={'slug': room.slug})}?message={message.pk}"
        snippet = snippet_html(plain_text(message.content_html), search.highlighted)
        rank = float(getattr(message, "rank", 0.0)) if ranked else 0.0
        hits.append(SearchHit(message, titles[room.pk], snippet, url, rank))
    last = hits[-1] if hits else None
    more = len(rows) > size and last is not None
    next_cursor = SearchCursor(last.rank, last.message.pk).encode() if more and last else None
    return SearchPage(hits, next_cursor)


def find_messages(
    user: Any,
    q: str,
    *,
    room: str | None = None,
    author: str | None = None,
    after: str | None = None,
    before: str | None = None,
    has: tuple[str, ...] = (),
    order: str = "relevance",
    cursor: str | None = None,
    limit: Any = None,
) -> SearchPage:
    """What every door calls: the search ``q`` as typed, with the filters the door passes
    apart (:func:`~smartcampus_chat.domain.message_search.parse_search`), searched."""
    search = parse_search(
        q, room=room, author=author, after=after, before=before, has=has, order=order
    )
    return search_messages(user, search, cursor=cursor, limit=limit)


def hit_payloads(page: SearchPage) -> list[SearchHitData]:
    """The page's results as the protocol carries them (the socket's frame, the API)."""
    return [
        search_hit_data(
            hit.message,
            room_slug=hit.message.room.slug,
            room_title=hit.room_title,
            snippet_html=hit.snippet_html,
            url=hit.url,
        )
        for hit in page.hits
    ]
