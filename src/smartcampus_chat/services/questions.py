"""Q&A mode (docs/questions.md): up-vote a question, endorse an answer, resolve a question.

In a room in Q&A mode (``ChatRoom.qa_mode``, set with the room's other settings:
:func:`.rooms.check_update_room`) a top-level message is a question and a reply its
answer. Each change is a ``check_*`` (the rules, the policy) and a ``do_*`` (one
transaction, idempotent: a repeat changes nothing); after commit the room gets
``question.updated`` with the question's state (:mod:`.question_updates`) and a voter's
own sockets ``question.voted``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction

from smartcampus_chat.domain import questions as rules
from smartcampus_chat.domain.policies import RoomAccess, get_policy
from smartcampus_chat.exceptions import MessageGone, NotFound, OwnQuestion, PermissionDenied
from smartcampus_chat.infra import ratelimit
from smartcampus_chat.models import (
    ChatAnswerEndorsement,
    ChatMessage,
    ChatQuestionResolution,
    ChatQuestionVote,
)
from smartcampus_chat.protocol.frames import QuestionVoted
from smartcampus_chat.queries import questions as reads
from smartcampus_chat.realtime import events
from smartcampus_chat.services.messages import check_can_participate, check_can_react
from smartcampus_chat.services.question_updates import publish_question


@dataclass(frozen=True)
class VoteResult:
    question: ChatMessage
    voted: bool
    votes: int
    #: False: it was so already.
    changed: bool


def _check_target(access: RoomAccess, message: ChatMessage) -> None:
    if not access.can_see:
        raise NotFound()
    if message.is_deleted:
        raise MessageGone()


def check_vote(user: Any, question: ChatMessage, access: RoomAccess, *, vote: bool) -> VoteResult:
    """Up-vote (``vote``) ``question`` or take the vote back: a member who may react (a
    muted one may not: ``muted``), never on their own question (``own_question``)."""
    _check_target(access, question)
    rules.check_question(question.room, question)
    check_can_react(access, question.room)
    if question.sender_id == user.pk:
        raise OwnQuestion()
    if not get_policy().can_vote_question(user, access, question):
        raise PermissionDenied()
    ratelimit.check_send_rate(user)
    return do_vote(user, question, vote=vote)


def do_vote(user: Any, question: ChatMessage, *, vote: bool) -> VoteResult:
    """One row per voter (a unique constraint: a concurrent repeat finds it there); the
    count is counted after the change. The voter's sockets hear ``question.voted``, the
    room ``question.updated``."""
    with transaction.atomic():
        if vote:
            try:
                with transaction.atomic():
                    ChatQuestionVote.objects.create(question=question, user=user)
                changed = True
            except IntegrityError:  # Voted before (or a concurrent vote of theirs won).
                changed = False
        else:
            changed = ChatQuestionVote.objects.filter(question=question, user=user).delete()[0] > 0
        votes = reads.vote_count(question)
        room = question.room
        if changed:
            frame = QuestionVoted(room=room.slug, message_id=question.pk, voted=vote, votes=votes)
            events.publish_to_user(user.pk, frame)
            publish_question(room, question.pk)
    return VoteResult(question, vote, votes, changed)


def check_endorse(user: Any, answer: ChatMessage, access: RoomAccess, *, endorse: bool) -> bool:
    """Endorse (``endorse``) ``answer`` or withdraw the endorsement: the room's moderators
    (teachers and TAs, staff). Whether it changed."""
    _check_target(access, answer)
    question = rules.check_answer(answer.room, answer)
    if not get_policy().can_endorse_answer(user, access, answer):
        raise PermissionDenied()
    ratelimit.check_send_rate(user)
    return do_endorse(user, answer, question, endorse=endorse)


def do_endorse(user: Any, answer: ChatMessage, question: ChatMessage, *, endorse: bool) -> bool:
    with transaction.atomic():
        if endorse:
            _row, changed = ChatAnswerEndorsement.objects.get_or_create(
                answer=answer, defaults={"question": question, "endorsed_by": user}
            )
        else:
            changed = ChatAnswerEndorsement.objects.filter(answer=answer).delete()[0] > 0
        if changed:
            publish_question(answer.room, question.pk)
    return changed


def check_resolve(user: Any, question: ChatMessage, access: RoomAccess, *, resolve: bool) -> bool:
    """Mark ``question`` resolved (``resolve``) or reopen it: the room's moderators, and
    the question's author. Whether it changed."""
    _check_target(access, question)
    rules.check_question(question.room, question)
    if not access.can_moderate:
        check_can_participate(access, question.room)
    if not get_policy().can_resolve_question(user, access, question):
        raise PermissionDenied()
    ratelimit.check_send_rate(user)
    return do_resolve(user, question, resolve=resolve)


def do_resolve(user: Any, question: ChatMessage, *, resolve: bool) -> bool:
    with transaction.atomic():
        if resolve:
            _row, changed = ChatQuestionResolution.objects.get_or_create(
                question=question, defaults={"resolved_by": user}
            )
        else:
            changed = ChatQuestionResolution.objects.filter(question=question).delete()[0] > 0
        if changed:
            publish_question(question.room, question.pk)
    return changed
