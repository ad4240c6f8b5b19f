"""Read queries: room lists, people search, and fixed query counts of the pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from courses.models import Course
from smartcampus_chat import queries, services
from smartcampus_chat.models import ChatRoom, RoomType

pytestmark = pytest.mark.django_db


def test_my_rooms_counts_unread_messages_of_others_after_the_read_marker(
    alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    services.do_join_room(bob, public_room)
    services.do_send_message(bob, public_room, "mine do not count")
    for text in ("one", "two", "three"):
        services.do_send_message(alice, public_room, text)
    deleted = services.do_send_message(alice, public_room, "gone").message
    services.do_delete_message(alice, deleted)
    services.do_create_room(alice, name="Other", room_type=RoomType.PUBLIC)

    rooms = {room.name: room for room in queries.my_rooms(bob)}
    assert list(rooms) == ["General"]
    assert (rooms["General"].unread, rooms["General"].my_last_read_seq) == (3, 1)
    services.do_mark_read(bob, public_room, 3)
    (room,) = queries.my_rooms(bob)
    assert room.unread == 1
    assert queries.last_messages([room])[public_room.pk].content == "gone"


def test_room_lists_filter_by_name(alice: Any, bob: Any) -> None:
    for name in ("Maths help", "Robotics", "Mathletes"):
        services.do_create_room(alice, name=name, room_type=RoomType.PUBLIC)
    assert sorted(r.name for r in queries.my_rooms(alice, "math")) == ["Mathletes", "Maths help"]
    assert sorted(r.name for r in queries.joinable_rooms(bob, "MATH")) == [
        "Mathletes",
        "Maths help",
    ]
    assert [r.name for r in queries.joinable_rooms(bob, "robot")] == ["Robotics"]
    assert queries.joinable_rooms(bob, "nothing like it").count() == 0


def test_clean_search_trims_and_bounds_the_term() -> None:
    assert queries.clean_search("  math ") == "math"
    assert queries.clean_search(None) == ""
    assert len(queries.clean_search("x" * 500)) == queries.SEARCH_MAX_LENGTH


def test_search_people_matches_username_and_names_but_not_self_or_inactive(
    make_user: Callable[..., Any],
) -> None:
    me = make_user("marie", first_name="Marie")
    people = [
        make_user("martin", last_name="Dupont"),
        make_user("zoe", first_name="Martine"),
        make_user("mario", is_active=False),
        make_user("paul"),
    ]
    room = services.do_create_room(me, name="Seminar", room_type=RoomType.PUBLIC)
    for person in people:
        services.do_join_room(person, room)
    assert [u.username for u in queries.search_people(me, "mar")] == ["martin", "zoe"]
    assert [u.username for u in queries.search_people(me, "dupont")] == ["martin"]
    assert queries.search_people(me, "") == []
    assert len(queries.search_people(me, "a", limit=1)) == 1


def _count(callback: Callable[[], Any]) -> int:
    with CaptureQueriesContext(connection) as captured:
        callback()
    return len(captured)


@pytest.fixture
def viewer(make_user: Callable[..., Any], enrol: Callable[..., Any]) -> Any:
    return make_user("viewer", first_name="Vi")


def _populate_rooms(viewer: Any, make_user: Callable[..., Any], enrol: Any, n: int) -> None:
    """``n`` joined rooms of every kind with messages, plus ``n`` joinable rooms."""
    author = make_user()
    for i in range(n):
        room = services.do_create_room(author, name=f"Room {n}-{i}", room_type=RoomType.PUBLIC)
        services.do_join_room(viewer, room)
        services.do_send_message(author, room, f"hello {i}")
        services.do_create_room(author, name=f"Other {n}-{i}", room_type=RoomType.PUBLIC)
        course = Course.objects.create(code=f"C{n}-{i}", title="Course")
        enrol(viewer, course)
        course_room = services.do_create_room(
            author, name=f"Course {n}-{i}", room_type=RoomType.COURSE, course=course
        )
        services.do_join_room(viewer, course_room)
        services.do_send_message(author, course_room, "course news")
        services.do_open_private(viewer, make_user())


def test_room_list_page_costs_the_same_queries_for_one_or_many_rooms(
    client: Client,
    viewer: Any,
    make_user: Callable[..., Any],
    enrol: Any,
    django_assert_num_queries: Any,
) -> None:
    client.force_login(viewer)
    url = reverse("smartcampus_chat:room_list")
    _populate_rooms(viewer, make_user, enrol, 1)
    one = _count(lambda: client.get(url))
    _populate_rooms(viewer, make_user, enrol, 12)
    with django_assert_num_queries(one):
        response = client.get(url)
    assert response.status_code == 200
    assert response.content.count(b'data-room="') == 13 * 3 + 13


def test_conversation_page_costs_the_same_queries_for_few_or_many_messages(
    client: Client,
    viewer: Any,
    course: Course,
    enrol: Any,
    staff: Any,
    make_user: Callable[..., Any],
    django_assert_num_queries: Any,
) -> None:
    enrol(viewer, course)
    room = services.do_create_room(staff, name="CS", room_type=RoomType.COURSE, course=course)
    services.do_join_room(viewer, room)
    first = services.do_send_message(staff, room, "first").message
    client.force_login(viewer)
    url = room.get_absolute_url()
    few = _count(lambda: client.get(url))
    for _ in range(15):
        member = make_user(first_name="Someone")
        enrol(member, course)
        services.do_join_room(member, room)
        asked = services.do_send_message(viewer, room, "**hello** $x$").message
        # Replies: each quote shows its parent and the parent's author (no query each).
        services.do_send_message(member, room, "hi", reply_to=asked)
        services.do_send_message(member, room, "and you", reply_to=first)
    # The newest message is someone else's, as in the first visit: the page moves the read
    # marker both times (a visit that moves nothing costs fewer queries).
    with django_assert_num_queries(few):
        response = client.get(url)
    assert response.status_code == 200
    assert response.content.count(b'class="scc-message scc-static') == 46
    assert response.content.count(b'<a class="scc-reply" href=') == 30
    assert response.content.count(b'class="scc-participant ') == 17


#: Queries of one send through ``services.check_send_message`` (a batch of one), inside
#: the test's transaction (a savepoint and its release included). Before the one send
#: pipeline a single send cost 8 (member), 9 (with a client id, or a new participant) and
#: 3 (a retry) on both databases.
SEND_COSTS = {
    "sqlite": {"member": 6, "client id": 7, "retry": 3, "new participant": 8},
    "postgresql": {"member": 4, "client id": 5, "retry": 3, "new participant": 5},
}


def test_a_single_send_costs_a_fixed_number_of_queries(
    bob: Any,
    public_room: ChatRoom,
    make_user: Callable[..., Any],
    django_assert_num_queries: Any,
) -> None:
    costs = SEND_COSTS[connection.vendor]
    services.do_join_room(bob, public_room)
    bob_access = services.room_access(bob, public_room)
    newcomer = make_user("newcomer")
    newcomer_access = services.room_access(newcomer, public_room)
    with django_assert_num_queries(costs["member"]):
        services.check_send_message(bob, public_room, "one", access=bob_access)
    with django_assert_num_queries(costs["client id"]):
        services.check_send_message(bob, public_room, "two", client_id="k", access=bob_access)
    with django_assert_num_queries(costs["retry"]):
        services.check_send_message(bob, public_room, "two", client_id="k", access=bob_access)
    with django_assert_num_queries(costs["new participant"]):
        services.check_send_message(newcomer, public_room, "hello", access=newcomer_access)


def test_the_api_history_costs_the_same_queries_with_replies_and_formatting(
    client: Client, viewer: Any, make_user: Callable[..., Any], django_assert_num_queries: Any
) -> None:
    author = make_user()
    room = services.do_create_room(author, name="Replies", room_type=RoomType.PUBLIC)
    services.do_join_room(viewer, room)
    first = services.do_send_message(author, room, "first").message
    client.force_login(viewer)
    url = reverse("smartcampus_chat:api-message-list", kwargs={"room_slug": room.slug})
    few = _count(lambda: client.get(url))
    for number in range(20):
        someone = make_user()
        services.do_join_room(someone, room)
        parent = services.do_send_message(someone, room, f"`q{number}` $x^{number}$").message
        services.do_send_message(make_user(), room, "**a**", reply_to=parent)
        services.do_send_message(author, room, "b", reply_to=first)
    services.check_delete_message(author, first, services.room_access(author, room))
    with django_assert_num_queries(few):
        response = client.get(url)
    results = response.json()["results"]
    assert len(results) == 50
    replies = [m["reply"] for m in results if m["reply"] is not None]
    assert len(replies) == 34  # seq 12 to 61: all but the 16 parents
    assert {r["excerpt"] for r in replies if r["id"] == first.pk} == {None}
