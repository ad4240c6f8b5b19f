"""Message search, the read (docs/search.md): the messages a user may read that match a
:class:`~smartcampus_chat.domain.message_search.MessageSearch`, ranked, a page at a time,
each with a snippet. Doors call it through :func:`smartcampus_chat.services.check_search`
(the rate limit).

Access is decided at query time: the rooms searched are the rooms the user joined and may
still see (:func:`~smartcampus_chat.queries.rooms.readable_rooms`, the room list's rule),
or the one room named, if they may see it. Deleted messages never match; an edited one
matches its current text (both indexes follow ``content``).

Queries per page: the rooms (the policy's one or two, the rooms), ``from:``'s user, the
page's ids, its messages, and the titles of the private rooms on it (none without): fixed
whatever the page holds.

The match per database (:mod:`smartcampus_chat.infra.search_index`):

- PostgreSQL: ``search_vector @@ query`` (the stored column and its GIN index), ranked by
  ``ts_rank``; ``has:`` as lexemes of that column;
- SQLite: the FTS5 table ``smartcampus_chat_message_fts``, ranked by ``bm25()``; ``from:``,
  ``in:`` and ``has:`` as words of its ``flags`` column (:func:`flag_words`);
- any other database: ``icontains`` per word, newest first (correct, not fast).

Pages (:class:`~smartcampus_chat.domain.message_search.SearchCursor`): best first ranks
the newest ``SEARCH_RANK_WINDOW`` matches (bounded work whatever the word) up to the first
page's newest match, and pages through that ranked window; newest first is a keyset on the
message id and reaches every match.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connections
from django.db.models import FloatField, Max, QuerySet, Subquery, Window
from django.db.models.expressions import RawSQL
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
from smartcampus_chat.infra import search_index
from smartcampus_chat.markup import plain_text
from smartcampus_chat.markup.snippets import snippet_html
from smartcampus_chat.models import ChatMessage, ChatRoom
from smartcampus_chat.protocol.payloads import SearchHitData
from smartcampus_chat.protocol.render import search_hit_data
from smartcampus_chat.queries.mentions import mentioning_me
from smartcampus_chat.queries.rooms import readable_rooms, room_for, room_titles


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


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_current_timezone())


def _filtered(
    user: Any, search: MessageSearch, room_ids: list[int], author_id: int | None
) -> QuerySet[ChatMessage]:
    messages: QuerySet[ChatMessage] = ChatMessage.objects.filter(
        room_id__in=room_ids, is_deleted=False
    )
    if author_id is not None:
        # An author's anonymous posts are nobody's here, even for their author: the
        # filter must not tell who wrote one (docs/anonymous-posts.md).
        messages = messages.filter(sender_id=author_id, anonymous=False)
    if search.after is not None:
        messages = messages.filter(created_at__gte=_day_start(search.after))
    if search.before is not None:
        messages = messages.filter(created_at__lt=_day_start(search.before))
    if search.mentions_me:
        messages = messages.filter(mentioning_me(user))
    vendor = connections[messages.db].vendor
    # has: is decided from the stored HTML when the message is indexed (infra.search_index:
    # a lexeme on PostgreSQL, a word of the FTS5 flags on SQLite, see flag_words), so it
    # is an index look-up; elsewhere, a scan of the HTML.
    wanted = [
        (lexeme, marker)
        for on, lexeme, marker in (
            (search.has_link, search_index.HAS_LINK, "<a "),
            (search.has_code, search_index.HAS_CODE, "<code"),
        )
        if on
    ]
    for lexeme, marker in wanted:
        if vendor == "postgresql":
            messages = messages.extra(  # noqa: S610 - fixed SQL
                where=[f"{search_index.COLUMN} @@ '{lexeme}'::tsquery"]
            )
        elif vendor != "sqlite":
            messages = messages.filter(content_html__contains=marker)
    return messages


def _postgresql(messages: QuerySet[ChatMessage], search: MessageSearch) -> tuple[Any, Any]:
    """The messages that match on PostgreSQL, and their rank's expression."""
    # Imported here: django.contrib.postgres needs psycopg, which a SQLite site may lack.
    from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVectorField
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
    # Unqualified: the only other table a page joins (the sender's) has no such column.
    vector = RawSQL(search_index.COLUMN, (), output_field=SearchVectorField())  # noqa: S611
    # ts_rank is a real: as double precision its value round-trips through a cursor.
    rank = Cast(SearchRank(vector, query), FloatField())
    return messages.alias(search_vector=vector).filter(search_vector=query), rank


def _quoted(words: tuple[str, ...]) -> str:
    # Words are letters and digits only (domain.message_search.WORD): no quote to escape.
    return '"' + " ".join(words) + '"'


def flag_words(search: MessageSearch, author_id: int | None, room_ids: list[int]) -> list[str]:
    """The words of the FTS5 ``flags`` column the messages must have (SQLite)."""
    flags = [f"u{author_id}"] if author_id is not None else []
    if search.room is not None and len(room_ids) == 1:
        flags.append(f"r{room_ids[0]}")
    return flags + ["haslink"] * search.has_link + ["hascode"] * search.has_code


def fts5_query(search: MessageSearch, flags: list[str] | tuple[str, ...] = ()) -> str:
    """The FTS5 MATCH expression: each term and phrase quoted (FTS5 reads nothing in a
    quoted string as syntax), exclusions as ``NOT``, all in the ``content`` column; the
    ``flags`` words (:func:`flag_words`) in theirs."""
    words = " ".join([_quoted((t,)) for t in search.terms] + list(map(_quoted, search.phrases)))
    words += "".join(f" NOT {_quoted((word,))}" for word in search.excluded)
    parts = [f"content : ({words})"] if words else []
    if flags:
        parts.append("flags : (" + " ".join(_quoted((flag,)) for flag in flags) + ")")
    return " AND ".join(parts)


def _sqlite(messages: QuerySet[ChatMessage], match: str) -> QuerySet[ChatMessage]:
    """The messages that match on SQLite, newest first, with ``rank`` (bm25, higher is
    better): FTS5 walks its index by rowid (the message id) and stops at the LIMIT."""
    fts = search_index.FTS_TABLE
    return messages.extra(  # noqa: S610 - fixed SQL; the user's words are a parameter
        select={"rank": f"-bm25({fts})"},
        tables=[fts],
        where=[f"{fts}.rowid = {ChatMessage._meta.db_table}.id", f"{fts} MATCH %s"],
        params=[match],
        order_by=[f"-{fts}.rowid"],
    )


def _anywhere(messages: QuerySet[ChatMessage], search: MessageSearch) -> QuerySet[ChatMessage]:
    """Other databases: no index, each word anywhere in the text (correct, not fast)."""
    for word in search.terms:
        messages = messages.filter(content__icontains=word)
    for phrase in search.phrases:
        messages = messages.filter(content__icontains=" ".join(phrase))
    for word in search.excluded:
        messages = messages.exclude(content__icontains=word)
    return messages.order_by("-pk")


#: A page's rows: (message id, rank, newest candidate id).
Rows = list[tuple[int, float, int]]


def _newest(
    messages: QuerySet[ChatMessage],
    search: MessageSearch,
    match: str,
    after: SearchCursor | None,
    size: int,
) -> Rows:
    """A page newest first, unranked. ``match``: the FTS5 expression (SQLite)."""
    if after is not None and after.message_id:
        messages = messages.filter(pk__lt=after.message_id)
    vendor = connections[messages.db].vendor
    if search.has_text and vendor == "postgresql":
        messages = _postgresql(messages, search)[0].order_by("-pk")
    elif match and vendor == "sqlite":
        messages = _sqlite(messages, match)
    elif search.has_text:
        messages = _anywhere(messages, search)
    else:
        messages = messages.order_by("-pk")
    return [(pk, 0.0, 0) for pk in messages.values_list("pk", flat=True)[: size + 1]]


def _ranked_sqlite(messages: QuerySet[ChatMessage], match: str, offset: int, size: int) -> Rows:
    matched = _sqlite(messages, match)
    # "rank" is an extra() column: the type checker's plugin does not know it.
    window = matched.values_list("pk", "rank")[: app_settings.SEARCH_RANK_WINDOW]  # type: ignore[misc]
    sql, params = window.query.sql_with_params()
    outer = (
        f"SELECT pk, rank, MAX(pk) OVER () FROM ({sql}) "  # noqa: S608 - Django's own SQL
        "ORDER BY rank DESC, pk DESC LIMIT %s OFFSET %s"
    )
    with connections[messages.db].cursor() as cursor:
        cursor.execute(outer, [*params, size + 1, offset])
        return [(int(pk), float(rank), int(newest)) for pk, rank, newest in cursor.fetchall()]


def _ranked(
    messages: QuerySet[ChatMessage],
    search: MessageSearch,
    match: str,
    after: SearchCursor | None,
    size: int,
) -> Rows:
    """A page best first: the newest ``SEARCH_RANK_WINDOW`` matches (on later pages, up to
    the first page's newest: the same set), ranked, from the cursor's offset on. Ranking
    every match of a word most messages hold cost ~0.4 s per million messages on
    PostgreSQL; ranking the window, ~15 ms (docs/performance.md, "Search")."""
    offset = after.offset if after is not None else 0
    if after is not None and after.ceiling:
        messages = messages.filter(pk__lte=after.ceiling)
    if connections[messages.db].vendor == "sqlite":
        return _ranked_sqlite(messages, match, offset, size)
    matched, rank = _postgresql(messages, search)
    window = matched.order_by("-pk").values("pk")[: app_settings.SEARCH_RANK_WINDOW]
    rows = ChatMessage.objects.filter(pk__in=Subquery(window)).annotate(
        rank=rank, newest=Window(Max("pk"))
    )
    found = rows.order_by("-rank", "-pk").values_list("pk", "rank", "newest")
    return [(pk, float(r), newest) for pk, r, newest in found[offset : offset + size + 1]]


#: The databases with an index (infra.search_index): ranked; elsewhere, newest first.
INDEXED = ("postgresql", "sqlite")


def _author_id(search: MessageSearch) -> int | None:
    """The id of ``from:``'s user (0: nobody has that login; None: no ``from:``)."""
    if search.author is None:
        return None
    model = get_user_model()
    people = model._default_manager.filter(**{model.USERNAME_FIELD: search.author})
    return people.values_list("pk", flat=True).first() or 0


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
    author_id = _author_id(search)
    if not rooms or author_id == 0:
        return SearchPage([], None)
    messages = _filtered(user, search, list(rooms), author_id)
    vendor = connections[messages.db].vendor
    match = fts5_query(search, flag_words(search, author_id, list(rooms)))
    ranked = search.has_text and search.order == "relevance" and vendor in INDEXED
    rows = (_ranked if ranked else _newest)(messages, search, match, after, size)
    page = rows[:size]
    loaded = ChatMessage.objects.select_related("sender").in_bulk([pk for pk, _r, _n in page])
    found = [(loaded[pk], rank) for pk, rank, _n in page if pk in loaded]
    titles = room_titles(user, {rooms[m.room_id] for m, _rank in found}) if found else {}
    hits = []
    for message, rank in found:
        room = rooms[message.room_id]
        message.room = room
        url = reverse("smartcampus_chat:room", kwargs={"slug": room.slug})
        snippet = snippet_html(plain_text(message.content_html), search.highlighted)
        hits.append(
            SearchHit(message, titles[room.pk], snippet, f"{url}?message={message.pk}", rank)
        )
    next_cursor = None
    if len(rows) > size and page:
        if ranked:
            offset = (after.offset if after is not None else 0) + size
            ceiling = after.ceiling if after is not None and after.ceiling else page[0][2]
            next_cursor = SearchCursor(offset=offset, ceiling=ceiling).encode()
        else:
            next_cursor = SearchCursor(message_id=page[-1][0]).encode()
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
