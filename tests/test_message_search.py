"""Message search (docs/search.md): the query parser, access at query time, deleted and
edited messages, filters, ranking and keyset pages, snippets, the query count; on the
database the run uses (SQLite's FTS5 table or PostgreSQL's GIN index)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from smartcampus_chat import queries, services
from smartcampus_chat.domain.message_search import (
    MessageSearch,
    SearchCursor,
    decode_cursor,
    parse_search,
)
from smartcampus_chat.exceptions import BadQuery, NotFound, QueryTooLong
from smartcampus_chat.infra import search_index
from smartcampus_chat.markup.snippets import snippet_html
from smartcampus_chat.models import ChatMessage, ChatRoom, RoomType
from smartcampus_chat.queries.message_search import fts5_query


def found(user: Any, text: str, **filters: Any) -> list[str]:
    page = queries.search_messages(user, parse_search(text, **filters))
    return [hit.message.content for hit in page.hits]


def send(user: Any, room: ChatRoom, text: str) -> ChatMessage:
    return services.do_send_message(user, room, text).message


# --- The parser -----------------------------------------------------------------------------


def test_the_parser_reads_words_phrases_exclusions_and_operators() -> None:
    search = parse_search('Exam "room B12" -cancelled from:@alice in:#maths has:link has:code')
    assert search == MessageSearch(
        terms=("exam",),
        phrases=(("room", "b12"),),
        excluded=("cancelled",),
        room="maths",
        author="alice",
        has_link=True,
        has_code=True,
    )
    dated = parse_search("notes after:2026-01-01 before:2026-02-01")
    assert (dated.after, dated.before) == (dt.date(2026, 1, 1), dt.date(2026, 2, 1))
    # Unknown name:value pairs are text (a time, a URL), never an error.
    assert parse_search("at 12:30 see https://x.example/a").terms == (
        "at", "12", "30", "see", "https", "x", "example", "a",
    )  # fmt: skip
    assert parse_search("mentions:me").mentions_me


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", BadQuery),
        ("   ", BadQuery),
        ("-alone", BadQuery),
        ("has:pictures", BadQuery),
        ("x after:yesterday", BadQuery),
        ("x after:2026-02-01 before:2026-01-01", BadQuery),
        ("x in:a in:b", BadQuery),
        ("mentions:you", BadQuery),
        ("x" * 201, QueryTooLong),
        (" ".join(f"w{n}" for n in range(17)), QueryTooLong),
    ],
)
def test_the_parser_refuses_what_it_cannot_run(text: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        parse_search(text)


@pytest.mark.parametrize(
    "text",
    ['"', '""', "*", "NEAR(a b)", "a AND b", "a OR -b", "-", "col:x", "^a", "a:", '"a" "b'],
)
def test_fts5_syntax_typed_by_a_user_is_quoted(text: str) -> None:
    """Whatever the user types becomes quoted words: FTS5 never reads it as syntax."""
    try:
        search = parse_search(text)
    except BadQuery:
        return
    match = re.fullmatch(r"content : \((.*)\)", fts5_query(search))
    assert match is not None
    for part in match.group(1).replace(" NOT ", " ").split('" "'):
        assert part.strip('"').replace(" ", "").isalnum(), match


def test_cursors_round_trip_and_refuse_anything_else() -> None:
    cursor = SearchCursor(message_id=42, offset=20, ceiling=99)
    assert decode_cursor(cursor.encode()) == cursor
    for bad in (
        "",
        "nope",
        "x" * 200,
        "٣",
        *[
            "MToy",
            "YTowOjA",
            "LTE6MDow",
            "MTowOjk5OTk5OTk5OTk5OTk5OTk5OTk5",
            "MToyMDAwMDAwOjA",
            "MTowOjA6MA",
        ],
    ):
        with pytest.raises(BadQuery):
            decode_cursor(bad)


# --- Snippets -------------------------------------------------------------------------------


def test_snippets_mark_the_words_and_escape_everything_else() -> None:
    html = snippet_html("The <b>exam</b> of Été: exams & more", ["exam", "ete"])
    assert html == (
        "The &lt;b&gt;<mark>exam</mark>&lt;/b&gt; of <mark>Été</mark>: "
        "<mark>exams</mark> &amp; more"
    )
    long = "word " * 60 + "needle " + "word " * 60
    cut = snippet_html(long.strip(), ["needle"])
    assert cut.startswith("…")
    assert cut.endswith("…")
    assert "<mark>needle</mark>" in cut
    assert len(cut) < 250


# --- Through the database -------------------------------------------------------------------


@pytest.mark.django_db
def test_search_finds_current_text_only_and_never_deleted_messages(
    alice: Any, public_room: ChatRoom
) -> None:
    kept = send(alice, public_room, "When is the **exam** in physics?")
    edited = send(alice, public_room, "exam draft")
    deleted = send(alice, public_room, "exam cancelled")
    send(alice, public_room, "nothing here")
    services.do_edit_message(alice, edited, "final version")
    services.do_delete_message(alice, deleted)
    assert found(alice, "exam") == [kept.content]
    assert found(alice, "draft") == []
    assert found(alice, "final") == ["final version"]
    assert found(alice, "cancelled") == []


@pytest.mark.django_db
def test_a_member_removed_from_a_room_no_longer_finds_its_messages(
    alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    services.do_join_room(bob, public_room)
    send(alice, public_room, "the secret plan")
    other = services.do_create_room(alice, name="Other", room_type=RoomType.PUBLIC)
    send(alice, other, "the plan elsewhere")  # bob never joined it
    assert found(bob, "plan") == ["the secret plan"]
    services.check_remove_member(alice, public_room, bob.pk)
    assert found(bob, "plan") == []
    with pytest.raises(NotFound):
        found(bob, "plan", room=public_room.slug)


@pytest.mark.django_db
def test_private_rooms_are_searched_by_their_members_only(
    alice: Any, bob: Any, make_user: Any
) -> None:
    room, _created = services.check_open_private(alice, bob.pk)
    send(alice, room, "private rendezvous")
    carol = make_user("carol")
    assert found(bob, "rendezvous") == ["private rendezvous"]
    assert found(carol, "rendezvous") == []
    page = queries.search_messages(bob, parse_search("rendezvous"))
    assert page.hits[0].room_title == "Alice"


@pytest.mark.django_db
def test_filters_room_author_dates_link_and_code(
    alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    services.do_join_room(bob, public_room)
    other = services.do_create_room(alice, name="Maths", room_type=RoomType.PUBLIC)
    send(alice, public_room, "notes: see https://example.org/notes")
    send(bob, public_room, "notes with `code`")
    old = send(alice, other, "notes from last year")
    ChatMessage.objects.filter(pk=old.pk).update(
        created_at=dt.datetime(2025, 6, 1, 12, tzinfo=dt.timezone.utc)
    )
    assert len(found(alice, "notes")) == 3
    assert found(alice, "notes from:bob") == ["notes with `code`"]
    assert found(alice, "notes", author="bob") == ["notes with `code`"]
    assert found(alice, f"notes in:{other.slug}") == ["notes from last year"]
    assert found(alice, "notes has:link") == ["notes: see https://example.org/notes"]
    assert found(alice, "notes has:code") == ["notes with `code`"]
    assert found(alice, "notes before:2026-01-01") == ["notes from last year"]
    assert len(found(alice, "notes after:2026-01-01")) == 2
    assert found(alice, "from:bob") == ["notes with `code`"]  # filters alone
    assert found(alice, "notes -year -code") == ["notes: see https://example.org/notes"]
    assert found(alice, '"from last"') == ["notes from last year"]
    assert found(alice, '"last from"') == []
    with pytest.raises(BadQuery):
        found(alice, f"notes in:{other.slug}", room=public_room.slug)


@pytest.mark.django_db
def test_mentions_me_finds_the_messages_that_mention_me_or_everyone(
    alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    services.do_join_room(bob, public_room)
    direct = send(alice, public_room, "@bob the exam is moved")
    everyone = send(alice, public_room, "@everyone exam room changed")
    send(alice, public_room, "exam for nobody in particular")
    send(bob, public_room, "@alice exam?")
    assert set(found(bob, "mentions:me exam")) == {direct.content, everyone.content}
    assert set(found(bob, "mentions:me")) == {direct.content, everyone.content}
    services.check_delete_message(alice, direct, services.room_access(alice, public_room))
    assert found(bob, "mentions:me") == [everyone.content]


@pytest.mark.django_db
def test_results_are_ranked_and_paged_by_keyset(alice: Any, public_room: ChatRoom) -> None:
    sent = [send(alice, public_room, f"exam number {n}") for n in range(5)]
    best = send(alice, public_room, "exam exam exam, the exam")
    search = parse_search("exam")
    first = queries.search_messages(alice, search, limit=2)
    assert first.hits[0].message.pk == best.pk  # the most relevant first
    assert first.next_cursor is not None
    seen = [hit.message.pk for hit in first.hits]
    cursor = first.next_cursor
    while cursor:
        page = queries.search_messages(alice, search, cursor=cursor, limit=2)
        seen += [hit.message.pk for hit in page.hits]
        cursor = page.next_cursor
    assert sorted(seen) == sorted([m.pk for m in sent] + [best.pk])
    assert len(seen) == len(set(seen))
    newest = queries.search_messages(alice, parse_search("exam", order="newest"), limit=3)
    assert [hit.message.pk for hit in newest.hits] == [best.pk, sent[4].pk, sent[3].pk]


@pytest.mark.django_db
def test_a_page_costs_a_fixed_number_of_queries(
    alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    services.do_join_room(bob, public_room)
    private, _created = services.check_open_private(alice, bob.pk)

    def cost() -> int:
        with CaptureQueriesContext(connection) as captured:
            page = queries.search_messages(bob, parse_search("lecture"))
        assert page.hits
        return len(captured.captured_queries)

    send(alice, public_room, "lecture one")
    send(alice, private, "lecture two")
    few = cost()
    for n in range(10):
        send(alice, public_room if n % 2 else private, f"lecture {n}")
    # The policy (groups, courses), the rooms, the page, its messages, private titles.
    assert cost() == few == 6


@pytest.mark.django_db
def test_the_hits_link_to_the_message_and_carry_marked_snippets(
    alice: Any, public_room: ChatRoom
) -> None:
    message = send(alice, public_room, "Lecture <script>alert(1)</script> moved")
    (hit,) = queries.search_messages(alice, parse_search("lecture")).hits
    assert hit.url == f"/chat/room/{public_room.slug}/?message={message.pk}"
    assert hit.snippet_html == ("<mark>Lecture</mark> &lt;script&gt;alert(1)&lt;/script&gt; moved")


@pytest.mark.django_db
def test_relevance_ranks_the_newest_matches_and_keeps_them_across_pages(
    alice: Any, public_room: ChatRoom, settings: Any
) -> None:
    settings.SMARTCAMPUS_CHAT = {**settings.SMARTCAMPUS_CHAT, "SEARCH_RANK_WINDOW": 4}
    old = send(alice, public_room, "quiz quiz quiz quiz")  # the best match, out of the window
    newer = [send(alice, public_room, f"quiz {n}") for n in range(4)]
    search = parse_search("quiz")
    first = queries.search_messages(alice, search, limit=2)
    assert first.next_cursor is not None
    send(alice, public_room, "quiz arriving between two pages")
    second = queries.search_messages(alice, search, cursor=first.next_cursor, limit=2)
    seen = [hit.message.pk for hit in first.hits + second.hits]
    assert sorted(seen) == sorted(m.pk for m in newer)  # the same window on every page
    assert second.next_cursor is None
    assert old.pk not in seen
    everything = queries.search_messages(alice, parse_search("quiz", order="newest"), limit=50)
    assert old.pk in [hit.message.pk for hit in everything.hits]  # newest first reaches all


@pytest.mark.django_db
def test_has_and_from_follow_edits_and_unknown_authors(
    alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    message = send(alice, public_room, "slides are ready")
    assert found(alice, "has:link") == []
    services.do_edit_message(alice, message, "slides: https://example.org/slides")
    assert found(alice, "has:link") == ["slides: https://example.org/slides"]
    assert found(alice, "slides has:link from:alice") == ["slides: https://example.org/slides"]
    services.do_edit_message(alice, message, "slides in `notes.md`")
    assert found(alice, "has:link") == []
    assert found(alice, "has:code slides") == ["slides in `notes.md`"]
    assert found(alice, "slides from:bob") == []
    assert found(alice, "slides from:nobody-has-this-login") == []


@pytest.mark.django_db
def test_the_index_installs_over_one_already_there(alice: Any, public_room: ChatRoom) -> None:
    """A database that ran an earlier version of the migration (the index already there)
    migrates all the same: installing replaces it, and search still finds."""
    search_index.install(connection, "simple")
    search_index.install(connection, "simple")
    send(alice, public_room, "lecture notes")
    send(alice, public_room, "more notes")
    assert sorted(found(alice, "notes")) == ["lecture notes", "more notes"]
