"""Q&A mode's side of the other services (docs/questions.md): what a new answer, a
deleted question or a deleted answer changes, and the ``question.updated`` frame.

Its own module so that the send pipeline and the deletion (:mod:`.batch`,
:mod:`.messages`) call it without importing :mod:`.questions`, which builds on them.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from smartcampus_chat.models import (
    ChatAnswerEndorsement,
    ChatMessage,
    ChatQuestionVote,
    ChatRoom,
    MessageKind,
)
from smartcampus_chat.protocol.frames import QuestionUpdated
from smartcampus_chat.queries import questions as reads
from smartcampus_chat.realtime import events


def publish_question(room: ChatRoom, question_id: int) -> None:
    """Tell the room the question's state once the transaction commits, read then: a
    state read inside it could miss a concurrent vote committed meanwhile, read after
    commit it holds every change committed so far (the last frame is never behind)."""

    def send() -> None:
        state = reads.question_state(room, question_id)
        if state is not None:
            events.publish_to_room(room.pk, QuestionUpdated(room=room.slug, question=state))

    transaction.on_commit(send)


def after_send(messages: Iterable[tuple[ChatRoom, ChatMessage]]) -> None:
    """The send pipeline's hook: a new question (its state: no vote, no answer) or a new
    answer (its question has one more) in a room in Q&A mode. A poll needs no test here
    (no query per message sent): its state reads as None after commit, so nothing goes out."""
    done: set[int] = set()
    for room, message in messages:
        if not room.qa_mode or message.kind != MessageKind.USER:
            continue
        question_id = message.reply_to_id or message.pk
        if question_id not in done:
            done.add(question_id)
            publish_question(room, question_id)


def on_deleted(message: ChatMessage) -> None:
    """In the deletion's transaction: a deleted question's votes go with it (it leaves
    every list: clients drop it on ``message.deleted``); a deleted answer loses its
    endorsement and its question one answer."""
    room = message.room
    if not room.qa_mode:
        return  # No query for the rooms that never were: a deleted message is never listed.
    if message.reply_to_id is None:
        ChatQuestionVote.objects.filter(question=message).delete()
    else:
        ChatAnswerEndorsement.objects.filter(answer=message).delete()
        publish_question(room, message.reply_to_id)
