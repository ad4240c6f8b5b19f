"""Q&A mode (docs/questions.md): a room setting switched by its managers; questions are
top-level messages, answers replies; up-votes (once each, not one's own, not muted),
endorsements (teachers and TAs) and resolution (them, and the question's author), over
the socket and the REST API, live for the room."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.db import close_old_connections, connection
from django.urls import reverse

from courses.models import Course
from smartcampus_chat import services
from smartcampus_chat.models import (
    ChatAnswerEndorsement,
    ChatMessage,
    ChatQuestionResolution,
    ChatQuestionVote,
    ChatRoom,
)
from smartcampus_chat.testing import capture_events, open_room
from tests.http import api, logged_in

db = database_sync_to_async
QUIET = frozenset({"presence", "presence.batch", "unread", "notification", "receipt"})


@pytest.fixture
def lecture(
    course_room: ChatRoom, course: Course, enrol: Callable[..., Any], make_user: Any
) -> dict[str, Any]:
    """A course room in Q&A mode with a teacher, two students and an outsider."""
    people = {
        "teacher": make_user("teacher", first_name="Tess"),
        "ann": make_user("ann", first_name="Ann"),
        "ben": make_user("ben", first_name="Ben"),
        "outsider": make_user("outsider"),
    }
    enrol(people["teacher"], course, role="teacher")
    enrol(people["ann"], course)
    enrol(people["ben"], course)
    for name in ("teacher", "ann", "ben"):
        services.enrolment_changed(people[name], course)
    room = services.check_update_room(people["teacher"], course_room, qa_mode=True)
    return {"room": room, **people}


def ask(user: Any, room: ChatRoom, text: str = "What is a monad?") -> ChatMessage:
    return services.check_send_message(user, room, text).message


def answer(user: Any, room: ChatRoom, question: ChatMessage, text: str = "A monoid") -> ChatMessage:
    return services.check_send_message(user, room, text, reply_to=question.pk).message


def questions_url(room: ChatRoom, **params: str) -> str:
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return api("room-questions", room_slug=room.slug) + (f"?{query}" if query else "")


def of_type(frames: Any, kind: str) -> list[dict[str, Any]]:
    return [frame for frame in frames.frames() if frame["type"] == kind]


def url(name: str, room: ChatRoom, message: ChatMessage) -> str:
    return api(name, room_slug=room.slug, message_id=message.pk)


@pytest.mark.django_db
def test_q_and_a_mode_is_a_room_setting_of_its_managers(
    lecture: dict[str, Any], staff: Any, django_capture_on_commit_callbacks: Any
) -> None:
    room = lecture["room"]
    detail = reverse("smartcampus_chat:api-room-detail", args=[room.slug])
    assert logged_in(lecture["ann"]).get(detail).json()["qa_mode"] is True
    refused = logged_in(lecture["ann"]).patch(
        detail, {"qa_mode": False}, content_type="application/json"
    )
    assert refused.status_code == 403
    with capture_events() as frames, django_capture_on_commit_callbacks(execute=True):
        off = logged_in(lecture["teacher"]).patch(
            detail, {"qa_mode": False}, content_type="application/json"
        )
    assert off.status_code == 200, off.json()
    assert off.json()["qa_mode"] is False
    assert [f["room"]["qa_mode"] for f in of_type(frames, "room.updated")] == [False]
    bad = logged_in(staff).patch(detail, {"qa_mode": "maybe"}, content_type="application/json")
    assert bad.status_code == 400
    # The room's settings page (the no-JS path) switches it back on.
    page = reverse("smartcampus_chat:room_settings", args=[room.slug])
    form = logged_in(lecture["teacher"]).get(page)
    assert b'name="qa_mode"' in form.content
    saved = logged_in(lecture["teacher"]).post(
        page, {"name": room.name, "read_receipts": "on", "qa_mode": "on", "slow_mode_seconds": 0}
    )
    assert saved.status_code == 302
    room.refresh_from_db()
    assert room.qa_mode is True


@pytest.mark.django_db
def test_votes_are_once_each_never_ones_own_and_listed_by_count(lecture: dict[str, Any]) -> None:
    room, ann, ben, teacher = (lecture[k] for k in ("room", "ann", "ben", "teacher"))
    first = ask(ann, room, "Why tail calls?")
    second = ask(ben, room, "What is a functor?")
    answer(teacher, room, second)
    vote = url("question-vote", room, second)
    made = logged_in(ann).post(vote)
    assert made.status_code == 201
    assert made.json() == {"message_id": second.pk, "voted": True, "votes": 1}
    again = logged_in(ann).post(vote)
    assert (again.status_code, again.json()["votes"]) == (200, 1)
    assert logged_in(teacher).post(vote).json()["votes"] == 2
    own = logged_in(ben).post(vote)
    assert (own.status_code, own.json()["error"]["code"]) == (403, "own_question")
    assert logged_in(lecture["outsider"]).post(vote).status_code == 404
    listed = logged_in(ann).get(questions_url(room)).json()
    assert listed["count"] == 2
    assert [(q["id"], q["state"]["votes"], q["voted"]) for q in listed["results"]] == [
        (second.pk, 2, True),
        (first.pk, 0, False),
    ]
    assert listed["results"][0]["state"]["answers"] == 1
    recent = logged_in(ben).get(questions_url(room, sort="recent")).json()["results"]
    assert [(q["id"], q["voted"]) for q in recent] == [(second.pk, False), (first.pk, False)]
    taken = logged_in(ann).delete(vote)
    assert (taken.status_code, taken.json()["voted"], taken.json()["votes"]) == (200, False, 1)
    assert logged_in(ann).delete(vote).json()["votes"] == 1
    bad = logged_in(ann).get(questions_url(room, status="open"))
    assert (bad.status_code, "status" in bad.json()["error"]["fields"]) == (400, True)


@pytest.mark.django_db
def test_a_muted_member_may_not_vote_and_answers_are_not_questions(
    lecture: dict[str, Any],
) -> None:
    room, ann, ben, teacher = (lecture[k] for k in ("room", "ann", "ben", "teacher"))
    question = ask(ann, room)
    reply = answer(ben, room, question)
    services.check_mute_member(teacher, room, ben.pk, duration=3600)
    muted = logged_in(ben).post(url("question-vote", room, question))
    assert (muted.status_code, muted.json()["error"]["code"]) == (403, "muted")
    not_one = logged_in(ann).post(url("question-vote", room, reply))
    assert not_one.json()["error"]["code"] == "not_a_question"
    not_answer = logged_in(teacher).post(url("answer-endorse", room, question))
    assert not_answer.json()["error"]["code"] == "not_an_answer"
    assert not ChatQuestionVote.objects.exists()


@pytest.mark.django_db
def test_teachers_endorse_students_do_not_authors_resolve(
    lecture: dict[str, Any], staff: Any
) -> None:
    room, ann, ben, teacher = (lecture[k] for k in ("room", "ann", "ben", "teacher"))
    question = ask(ann, room)
    reply = answer(ben, room, question)
    endorse = url("answer-endorse", room, reply)
    student = logged_in(ann).post(endorse)
    assert (student.status_code, student.json()["error"]["code"]) == (403, "forbidden")
    state = logged_in(teacher).post(endorse).json()
    assert [e["answer"] for e in state["endorsed"]] == [reply.pk]
    assert state["endorsed"][0]["by"]["id"] == teacher.pk
    assert logged_in(teacher).post(endorse).json() == state  # idempotent
    resolve = url("question-resolve", room, question)
    assert logged_in(ben).post(resolve).status_code == 403  # not his question
    resolved = logged_in(ann).post(resolve).json()
    assert (resolved["resolved"], resolved["resolved_by"]["id"]) == (True, ann.pk)
    unresolved = logged_in(ben).get(questions_url(room)).json()
    assert unresolved["count"] == 0
    done = logged_in(ben).get(questions_url(room, status="resolved")).json()["results"]
    assert [q["id"] for q in done] == [question.pk]
    assert logged_in(staff).delete(resolve).json()["resolved"] is False
    withdrawn = logged_in(staff).delete(endorse).json()
    assert withdrawn["endorsed"] == []
    assert not ChatAnswerEndorsement.objects.exists()
    assert not ChatQuestionResolution.objects.exists()


@pytest.mark.django_db
def test_outside_q_and_a_mode_nothing_is_a_question(lecture: dict[str, Any]) -> None:
    room, ann, teacher = lecture["room"], lecture["ann"], lecture["teacher"]
    question = ask(teacher, room)
    room = services.check_update_room(teacher, room, qa_mode=False)
    refused = logged_in(ann).post(url("question-vote", room, question))
    assert (refused.status_code, refused.json()["error"]["code"]) == (400, "not_qa_room")
    assert logged_in(ann).get(questions_url(room)).json()["error"]["code"] == "not_qa_room"
    assert logged_in(lecture["outsider"]).get(questions_url(room)).status_code == 404


@pytest.mark.django_db
def test_a_deleted_question_takes_its_votes_and_a_deleted_answer_its_endorsement(
    lecture: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    room, ann, ben, teacher = (lecture[k] for k in ("room", "ann", "ben", "teacher"))
    question = ask(ann, room, "Secret *question*")
    reply = answer(ben, room, question)
    services.check_vote(ben, question, services.room_access(ben, room), vote=True)
    services.check_endorse(teacher, reply, services.room_access(teacher, room), endorse=True)
    with capture_events() as frames, django_capture_on_commit_callbacks(execute=True):
        services.check_delete_message(ben, reply, services.room_access(ben, room))
    (updated,) = of_type(frames, "question.updated")
    assert (updated["question"]["answers"], updated["question"]["endorsed"]) == (0, [])
    services.check_delete_message(ann, question, services.room_access(ann, room))
    assert not ChatQuestionVote.objects.exists()
    assert not ChatAnswerEndorsement.objects.exists()
    listed = logged_in(teacher).get(questions_url(room, status="all"))
    assert listed.json()["count"] == 0
    assert b"Secret" not in listed.content
    gone = logged_in(ben).post(url("question-vote", room, question))
    assert gone.json()["error"]["code"] == "message_deleted"


@pytest.mark.django_db(transaction=True)
def test_concurrent_votes_are_all_counted(lecture: dict[str, Any], make_user: Any) -> None:
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers: no concurrency to test")
    room, ann = lecture["room"], lecture["ann"]
    question = ask(ann, room)
    voters = [lecture["ben"], lecture["teacher"]]
    barrier = threading.Barrier(len(voters) * 2)
    errors: list[BaseException] = []

    def vote(user: Any) -> None:
        try:
            barrier.wait()
            access = services.room_access(user, room)
            services.check_vote(user, question, access, vote=True)
        except BaseException as exc:
            errors.append(exc)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=vote, args=(user,)) for user in voters * 2]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert ChatQuestionVote.objects.filter(question=question).count() == 2


@pytest.mark.django_db(transaction=True)
async def test_frames_vote_endorse_resolve_live_for_the_room(lecture: dict[str, Any]) -> None:
    room, ann, ben, teacher = (lecture[k] for k in ("room", "ann", "ben", "teacher"))
    asker = await open_room(ann, room.slug)
    voter = await open_room(ben, room.slug)
    instructor = await open_room(teacher, room.slug)
    try:
        await asker.send_frame(type="message.send", content="Is P = NP?", id="q")
        sent = await asker.receive_until(lambda f: f["type"] == "ack")
        question_id = sent["message"]["id"]
        new = await voter.receive_until(lambda f: f["type"] == "question.updated")
        assert new["question"] == {
            "id": question_id,
            "votes": 0,
            "answers": 0,
            "resolved": False,
            "resolved_at": None,
            "resolved_by": None,
            "endorsed": [],
        }
        await voter.send_frame(type="question.vote", message_id=question_id, id="v1")
        mine = await voter.receive_until(lambda f: f.get("id") == "v1")
        assert (mine["type"], mine["voted"], mine["votes"]) == ("question.voted", True, 1)
        live = await asker.receive_until(
            lambda f: f["type"] == "question.updated" and f["question"]["votes"] == 1
        )
        assert live["question"]["id"] == question_id
        # Who voted goes to the voter's sockets only.
        await asker.assert_no_frame(ignore=QUIET | {"question.updated"})
        await asker.send_frame(type="question.vote", message_id=question_id, id="v2")
        own = await asker.receive_until(lambda f: f["type"] == "error")
        assert (own["code"], own["id"]) == ("own_question", "v2")
        await voter.send_frame(
            type="message.send", content="Nobody knows", reply_to=question_id, id="a"
        )
        reply = await voter.receive_until(lambda f: f["type"] == "ack")
        answered = await instructor.receive_until(
            lambda f: f["type"] == "question.updated" and f["question"]["answers"] == 1
        )
        assert answered["question"]["votes"] == 1
        answer_id = reply["message"]["id"]
        await voter.send_frame(type="answer.endorse", message_id=answer_id, id="e1")
        refused = await voter.receive_until(lambda f: f["type"] == "error")
        assert (refused["code"], refused["id"]) == ("forbidden", "e1")
        await instructor.send_frame(type="answer.endorse", message_id=answer_id, id="e2")
        assert (await instructor.receive_until(lambda f: f.get("id") == "e2"))["type"] == "ack"
        endorsed = await asker.receive_until(
            lambda f: f["type"] == "question.updated" and f["question"]["endorsed"]
        )
        assert endorsed["question"]["endorsed"][0]["answer"] == answer_id
        await instructor.send_frame(type="question.resolve", message_id=question_id, id="r")
        resolved = await voter.receive_until(
            lambda f: f["type"] == "question.updated" and f["question"]["resolved"]
        )
        assert resolved["question"]["resolved_by"]["id"] == teacher.pk
        await instructor.send_frame(type="question.resolve", message_id=answer_id, id="r2")
        wrong = await instructor.receive_until(lambda f: f["type"] == "error")
        assert (wrong["code"], wrong["id"]) == ("not_a_question", "r2")
    finally:
        for socket in (asker, voter, instructor):
            await socket.disconnect()
    assert await db(ChatQuestionVote.objects.count)() == 1


@pytest.mark.django_db
def test_a_poll_in_a_q_and_a_room_is_not_a_question(lecture: dict[str, Any]) -> None:
    """A poll (docs/polls.md) is voted on as a poll: it is not listed, has no up-vote, and
    its replies are not answers; a question next to it still is one."""
    room, teacher, ann = lecture["room"], lecture["teacher"], lecture["ann"]
    with capture_events() as events:
        poll = services.check_send_message(
            teacher, room, "Which lab slot?", poll={"options": ["Monday", "Friday"]}
        ).message
    assert of_type(events, "question.updated") == []
    question = ask(ann, room)
    listed = logged_in(ann).get(questions_url(room, status="all")).json()
    assert [item["id"] for item in listed["results"]] == [question.pk]
    refused = logged_in(ann).post(url("question-vote", room, poll))
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "not_a_question"
    reply = answer(ann, room, poll, "Friday, please")
    endorse = logged_in(teacher).post(url("answer-endorse", room, reply))
    assert endorse.json()["error"]["code"] == "not_an_answer"
