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


def test_office_hours_reads_cost_the_same_queries_for_a_short_or_long_queue(
    alice: Any, make_user: Callable[..., Any], django_assert_num_queries: Any
) -> None:
    """A room's office hours (the REST view, the frames' data): pinned counts whatever the
    queue's length; the teacher's view adds the statistics (two queries)."""
    room = services.do_create_room(alice, name="Help", room_type=RoomType.PUBLIC)
    services.check_open_office_hours(alice, room)
    students = [make_user() for _ in range(12)]
    access = services.room_access(alice, room)

    def costs() -> dict[str, int]:
        student = students[0]
        student_access = services.room_access(student, room)
        counted = {}
        for name, run in (
            ("teacher", lambda: queries.office_hours_view(alice, room, access)),
            ("student", lambda: queries.office_hours_view(student, room, student_access)),
            ("queue", lambda: queries.session_queue(queries.current_session(room))),  # type: ignore[arg-type]
        ):
            with CaptureQueriesContext(connection) as captured:
                run()
            counted[name] = len(captured)
        return counted

    services.check_raise_hand(students[0], room, "first")
    short = costs()
    for student in students[1:]:
        services.check_raise_hand(student, room, "topic")
    services.check_claim(alice, room)
    services.check_finish(alice, room, services.check_claim(alice, room).pk, "done")
    assert costs() == short == {"teacher": 6, "student": 4, "queue": 3}
    session = queries.current_session(room)
    assert session is not None
    with django_assert_num_queries(2):
        queries.session_stats(session)


def test_announcements_cost_the_same_queries_for_one_or_many(
    alice: Any,
    public_room: ChatRoom,
    make_user: Callable[..., Any],
    django_assert_num_queries: Any,
) -> None:
    """The top of a member's page, the moderators' panel (three queries), one
    announcement's lists (two) and the pending list (one, plus ``shown()``'s) stay the
    same whatever the number of announcements, members and acknowledgements."""
    member = make_user("member")
    services.do_join_room(member, public_room)

    def announce() -> Any:
        return services.check_send_message(
            alice, public_room, "**read me**", announcement=True, requires_ack=True
        ).message

    first = announce()
    member_page, owner_page = logged(member), logged(alice)
    url = public_room.get_absolute_url()
    few = (_count(lambda: member_page.get(url)), _count(lambda: owner_page.get(url)))
    access = services.room_access(member, public_room)
    with django_assert_num_queries(2):
        queries.ack_status(first)
    pending = _count(lambda: queries.pending_announcements(member, public_room, access))
    for _ in range(8):
        other = make_user()
        services.do_join_room(other, public_room)
        services.do_acknowledge(other, announce())
    services.do_send_message(alice, public_room, "after")  # the newest is not mine
    with django_assert_num_queries(few[0]):
        assert member_page.get(url).content.count(b"data-announcement-id=") == 10  # + template
    with django_assert_num_queries(few[1]):
        assert owner_page.get(url).content.count(b"data-acks-id=") == 9
    with django_assert_num_queries(2):
        assert queries.ack_status(first).total == 9
    with django_assert_num_queries(pending):
        assert len(queries.pending_announcements(member, public_room, access)) == 9


def logged(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_questions_cost_the_same_queries_for_one_or_many(
    alice: Any,
    public_room: ChatRoom,
    make_user: Callable[..., Any],
    django_assert_num_queries: Any,
) -> None:
    """A page of a room's questions (the count, the page with its votes, answers, the
    reader's votes and resolutions, and the endorsements: three) and one question's state
    (two) stay the same whatever the number of questions, votes, answers and endorsements."""
    public_room = services.check_update_room(alice, public_room, qa_mode=True)

    def ask(text: str) -> Any:
        return services.check_send_message(alice, public_room, text).message

    first = ask("first?")

    def page() -> list[Any]:
        listed = queries.question_list(public_room, alice, "all", "votes")
        return queries.render_questions(list(listed[:50]), public_room.slug, alice)

    def count_and_page() -> tuple[int, list[Any]]:
        return queries.question_list(public_room, alice, "all", "votes").count(), page()

    with django_assert_num_queries(3):
        assert count_and_page()[0] == 1
    for index in range(6):
        question = ask(f"question {index}?")
        voter = make_user()
        services.do_join_room(voter, public_room)
        services.do_vote(voter, question, vote=True)
        reply = services.check_send_message(voter, public_room, "an answer", reply_to=question.pk)
        services.do_endorse(alice, reply.message, question, endorse=True)
        services.do_resolve(alice, question, resolve=index % 2 == 0)
    with django_assert_num_queries(3):
        total, shown = count_and_page()
    assert total == 7
    assert sum(len(q.state.endorsed) for q in shown) == 6
    with django_assert_num_queries(2):
        state = queries.questions.question_state(public_room, first.pk)
    assert state is not None
    assert state.votes == 0


def test_polls_cost_the_same_queries_for_one_or_many(
    alice: Any,
    public_room: ChatRoom,
    make_user: Callable[..., Any],
    django_assert_num_queries: Any,
) -> None:
    """A history page with polls costs three queries more than one without, whatever the
    number of polls, options and votes (their options, their votes with the voters, the
    reader's own choice); the page and the REST history alike; a vote costs the same
    whoever votes and however many voted before."""
    from smartcampus_chat.models import ChatPollOption
    from smartcampus_chat.protocol.render import message_data
    from smartcampus_chat.queries.history import history
    from smartcampus_chat.queries.polls import with_my_votes

    member = make_user("member")
    services.do_join_room(member, public_room)
    services.do_send_message(alice, public_room, "plain")

    def poll() -> Any:
        spec = {"options": ["a", "b", "c"], "multiple": True}
        return services.check_send_message(alice, public_room, "Poll?", poll=spec).message

    def read() -> None:
        page = history(public_room)
        with_my_votes(page.messages, member)
        for message in page.messages:
            message_data(message, room_slug=public_room.slug)

    without = _count(read)
    first = poll()
    with_one = _count(read)
    assert with_one == without + 3
    page_url, api_url = (
        public_room.get_absolute_url(),
        f"/chat/api/rooms/{public_room.slug}/messages/",
    )
    member_page = logged(member)
    few = (_count(lambda: member_page.get(page_url)), _count(lambda: member_page.get(api_url)))
    access = services.room_access(member, public_room)
    options = list(ChatPollOption.objects.filter(poll_id=first.pk).values_list("pk", flat=True))
    vote_cost = _count(lambda: services.check_poll_vote(member, first, options[:1], access))
    for _ in range(6):
        message = poll()
        voters = [make_user() for _ in range(3)]
        for voter in voters:
            services.do_join_room(voter, public_room)
            ids = list(message.poll.options.values_list("pk", flat=True))
            services.do_poll_vote(voter, message, ids[:2])
    with django_assert_num_queries(with_one):
        read()
    with django_assert_num_queries(few[0]):
        assert member_page.get(page_url).content.count(b"data-poll=") == 7
    with django_assert_num_queries(few[1]):
        member_page.get(api_url)
    again = make_user()
    services.do_join_room(again, public_room)
    other = services.room_access(again, public_room)
    with django_assert_num_queries(vote_cost):
        services.check_poll_vote(again, first, options[1:2], other)
