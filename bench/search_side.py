"""Message search at scale, the Django side (run in a child by ``bench.django_side.call``).

``seed_search`` writes ``count`` messages over ``ROOMS`` rooms straight into the table
(PostgreSQL: ``COPY``, the ``search_vector`` column computed on the way, with the search
index dropped and built again after, timed; SQLite:
multi-row ``INSERT``\\ s in one transaction, the FTS5 triggers indexing each row). Text is
drawn from a mixed English/French vocabulary with Zipf-like frequencies (a few very
common words, a long tail of rare ones), 6 to 24 words a message; 2 % of messages carry a
link, 2 % inline code, 1 % the phrase "salle de réunion", 2 % are deleted. ``content_html``
is written in the renderer's shape (a paragraph, ``<a href>``, ``<code>``) without running
the renderer a million times.

``time_searches`` times ``queries.find_messages`` + ``queries.hit_payloads`` (what both
doors run) for a reader who joined ``READER_ROOMS`` of the rooms.
"""

from __future__ import annotations

import random
import time
from datetime import timedelta
from html import escape
from typing import Any

ROOMS = 200
READER_ROOMS = 20
SENDERS = 200
PREFIX = "bench-search-"
READER = "bench-search-reader"
PHRASE = "salle de réunion"

_BASE = [
    "the",
    "exam",
    "lecture",
    "notes",
    "week",
    "room",
    "question",
    "answer",
    "project",
    "deadline",
    "group",
    "lab",
    "course",
    "professor",
    "student",
    "campus",
    "library",
    "assignment",
    "homework",
    "grade",
    "slides",
    "tutorial",
    "meeting",
    "le",
    "la",
    "les",
    "des",
    "une",
    "un",
    "examen",
    "cours",
    "salle",
    "semaine",
    "question",
    "réponse",
    "projet",
    "devoir",
    "groupe",
    "professeur",
    "étudiant",
    "bibliothèque",
    "note",
    "diapositives",
    "réunion",
    "demain",
    "aujourd'hui",
    "merci",
    "bonjour",
    "hello",
    "thanks",
    "tomorrow",
    "today",
    "please",
    "help",
    "python",
    "java",
    "code",
    "bug",
    "error",
    "function",
    "physique",
    "chimie",
    "mathématiques",
    "maths",
    "biology",
    "history",
    "histoire",
    "été",
    "hiver",
    "printemps",
]


def vocabulary(size: int = 20_000) -> list[str]:
    """The base words first (the common ones), then made-up words for the long tail."""
    rng = random.Random(7)
    letters = "abcdefghijklmnopqrstuvwxyzéèà"
    tail = {"".join(rng.choice(letters) for _ in range(rng.randint(4, 10))) for _ in range(size)}
    return _BASE + sorted(tail - set(_BASE))[: size - len(_BASE)]


def _weights(n: int) -> list[float]:
    return [1.0 / (rank + 1) ** 1.05 for rank in range(n)]


def _message(rng: random.Random, words: list[str], cum: list[float]) -> tuple[str, str]:
    text = " ".join(rng.choices(words, cum_weights=cum, k=rng.randint(6, 24)))
    roll = rng.random()
    if roll < 0.02:
        url = f"https://example.org/{rng.choice(words)}"
        return f"{text} {url}", f'<p>{escape(text)} <a href="{url}" rel="noopener">{url}</a></p>'
    if roll < 0.04:
        return f"{text} `x = 1`", f"<p>{escape(text)} <code>x = 1</code></p>"
    if roll < 0.05:
        text = f"{text} {PHRASE}"
    return text, f"<p>{escape(text)}</p>"


def _rooms_and_people() -> tuple[list[Any], list[int], Any]:
    from django.contrib.auth import get_user_model

    from bench.seed import ensure_users
    from smartcampus_chat.models import ChatParticipant, ChatRoom, RoomType

    senders = [u.pk for u in ensure_users(SENDERS)]
    reader, _ = get_user_model().objects.get_or_create(username=READER)
    rooms = []
    for n in range(ROOMS):
        room, _ = ChatRoom.objects.get_or_create(
            slug=f"{PREFIX}{n}", defaults={"name": f"Search {n}", "room_type": RoomType.PUBLIC}
        )
        rooms.append(room)
    for room in rooms[:READER_ROOMS]:
        ChatParticipant.objects.get_or_create(room=room, user=reader)
    return rooms, senders, reader


def present() -> int:
    from smartcampus_chat.models import ChatMessage

    return ChatMessage.objects.filter(room__slug__startswith=PREFIX).count()


def seed_search(count: int) -> dict[str, Any]:
    from django.db import connection, transaction
    from django.utils import timezone

    from smartcampus_chat.models import ChatMessage, ChatRoom

    rooms, senders, _reader = _rooms_and_people()
    words = vocabulary()
    cum: list[float] = []
    total = 0.0
    for w in _weights(len(words)):
        total += w
        cum.append(total)
    rng = random.Random(11)
    table = ChatMessage._meta.db_table
    columns = "room_id, sender_id, content, content_html, created_at, seq, event_seq, "
    columns += "client_id, is_edited, is_deleted, kind"
    start = timezone.now() - timedelta(days=365)
    step = timedelta(days=365) / count
    seqs = {room.pk: room.last_seq for room in rooms}

    def rows() -> Any:
        for i in range(count):
            room = rooms[rng.randrange(ROOMS)].pk
            seqs[room] += 1
            content, html = _message(rng, words, cum)
            deleted = rng.random() < 0.02
            sender = senders[rng.randrange(SENDERS)]
            at = start + step * i
            yield (
                room,
                sender,
                content,
                html,
                at,
                seqs[room],
                seqs[room],
                "",
                False,
                deleted,
                "user",
            )

    t0 = time.monotonic()
    timings: dict[str, float] = {}
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("DROP INDEX IF EXISTS scchat_msg_search_idx")  # built after
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows():
                    copy.write_row(row)
        else:
            sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * 11)})"
            batch: list[Any] = []
            for row in rows():
                batch.append(row)
                if len(batch) == 5000:
                    cursor.executemany(sql, batch)
                    batch = []
            cursor.executemany(sql, batch)
        timings["insert_s"] = round(time.monotonic() - t0, 1)
        end = start + step * count
        for room in rooms:
            ChatRoom.objects.filter(pk=room.pk).update(
                last_seq=seqs[room.pk], last_event_seq=seqs[room.pk], last_message_at=end
            )
    if connection.vendor == "postgresql":
        t1 = time.monotonic()
        _build_pg_index()
        timings["index_s"] = round(time.monotonic() - t1, 1)
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {table}")
    return {"added": count, "seconds": round(time.monotonic() - t0, 1), **timings}


def _build_pg_index() -> None:
    from django.db import connection

    from smartcampus_chat.infra import search_index

    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE INDEX {search_index.PG_INDEX} ON {search_index.MESSAGES} "
            f"USING gin ({search_index.COLUMN}) WHERE NOT is_deleted"
        )


def shapes() -> list[tuple[str, list[str]]]:
    """(name, the searches of that shape): each timed in turn, round robin."""
    words = vocabulary()
    common = words[:10]
    less_common = words[3000:3020]
    rare = words[19_000:19_020]
    mid = words[200:240]
    first_room = f"{PREFIX}0"
    return [
        ("one common word", common),
        ("one less common word", less_common),
        ("one rare word", rare),
        ("two words", [f"{a} {b}" for a, b in zip(mid[::2], mid[1::2], strict=True)]),
        ("phrase", [f'"{PHRASE}"', '"salle de"', '"de réunion"']),
        ("common word from:<user>", [f"{w} from:bench-u{n}" for n, w in enumerate(common)]),
        ("common word in:<room>", [f"{w} in:{first_room}" for w in common]),
        ("common word has:link", [f"{w} has:link" for w in common]),
        ("common word, newest first", [f"{w}|newest" for w in common]),
        ("common word, page 2", [f"{w}|page2" for w in common]),
    ]


def time_searches(samples: int) -> list[dict[str, Any]]:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from smartcampus_chat import queries

    reader = get_user_model().objects.get(username=READER)
    results = []
    for name, searches in shapes():
        timings = []
        hits = []
        counts = set()
        for i in range(samples):
            text, _, mode = searches[i % len(searches)].partition("|")
            order = "newest" if mode == "newest" else "relevance"
            cursor = None
            if mode == "page2":
                cursor = queries.find_messages(reader, text).next_cursor
            with CaptureQueriesContext(connection) as captured:
                t0 = time.perf_counter()
                page = queries.find_messages(reader, text, order=order, cursor=cursor)
                queries.hit_payloads(page)
                timings.append(time.perf_counter() - t0)
            counts.add(len(captured))
            hits.append(len(page.hits))
        results.append(
            {
                "shape": name,
                "timings_s": timings,
                "hits": sorted(set(hits)),
                "queries": sorted(counts),
            }
        )
    return results


def explain(text: str) -> str:
    """The plan of one search's page query (PostgreSQL EXPLAIN ANALYZE)."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from smartcampus_chat import queries

    reader = get_user_model().objects.get(username=READER)
    with CaptureQueriesContext(connection) as captured:
        queries.find_messages(reader, text)
    sql = max(captured.captured_queries, key=lambda q: len(q["sql"]))["sql"]
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())
