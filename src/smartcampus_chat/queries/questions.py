"""Reads of Q&A mode (docs/questions.md): a room's questions with their state, and one
question's state, each in a fixed number of queries (tests/test_queries.py).

Vote and answer counts are counted (subqueries), never kept in a counter: concurrent votes
cannot lose one. A deleted question is never listed and has no state; a deleted answer
counts for nothing.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Exists, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from smartcampus_chat.models import (
    ChatAnswerEndorsement,
    ChatMessage,
    ChatQuestionVote,
    ChatRoom,
    MessageKind,
)
from smartcampus_chat.protocol.payloads import EndorsementData, QuestionData, QuestionStateData
from smartcampus_chat.protocol.render import shown_sender, user_ref


def _count(queryset: QuerySet[Any], key: str) -> Coalesce:
    counted = queryset.order_by().values(key).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def questions(room: ChatRoom, user: Any = None) -> QuerySet[ChatMessage]:
    """The questions of ``room`` still there, with ``vote_count``, ``answer_count`` and,
    for ``user``, ``voted``; their sender and resolution in the same query."""
    queryset = (
        ChatMessage.objects.filter(
            room=room,
            reply_to__isnull=True,
            kind=MessageKind.USER,
            is_deleted=False,
            # A poll is not a question (docs/polls.md): domain.questions.is_question.
            poll__isnull=True,
        )
        .select_related("sender", "resolution", "resolution__resolved_by")
        .annotate(
            vote_count=_count(ChatQuestionVote.objects.filter(question=OuterRef("pk")), "question"),
            answer_count=_count(
                ChatMessage.objects.filter(reply_to=OuterRef("pk"), is_deleted=False), "reply_to"
            ),
        )
    )
    if user is not None and user.is_authenticated:
        mine = ChatQuestionVote.objects.filter(question=OuterRef("pk"), user=user)
        queryset = queryset.annotate(voted=Exists(mine))
    return queryset


def question_list(room: ChatRoom, user: Any, status: str, sort: str) -> QuerySet[ChatMessage]:
    """The questions list (``status``: unresolved, resolved or all; ``sort``: votes, most
    first, or recent, newest first), to page and then render with :func:`render_questions`."""
    queryset = questions(room, user)
    if status == "unresolved":
        queryset = queryset.filter(resolution__isnull=True)
    elif status == "resolved":
        queryset = queryset.filter(resolution__isnull=False)
    if sort == "votes":
        return queryset.order_by("-vote_count", "seq")
    return queryset.order_by("-seq")


def _endorsements(question_ids: list[int]) -> dict[int, list[EndorsementData]]:
    rows = (
        ChatAnswerEndorsement.objects.filter(question_id__in=question_ids, answer__is_deleted=False)
        .select_related("endorsed_by")
        .order_by("endorsed_at", "pk")
    )
    found: dict[int, list[EndorsementData]] = {}
    for row in rows:
        by = user_ref(row.endorsed_by) if row.endorsed_by is not None else None
        found.setdefault(row.question_id, []).append(
            EndorsementData(answer=row.answer_id, by=by, at=row.endorsed_at)
        )
    return found


def _state(question: ChatMessage, endorsed: list[EndorsementData]) -> QuestionStateData:
    resolution = getattr(question, "resolution", None)
    resolver = resolution.resolved_by if resolution is not None else None
    if resolver is not None and question.anonymous and resolver.pk == question.sender_id:
        # An anonymous question resolved by its author: naming who resolved it would name
        # who asked (docs/anonymous-posts.md).
        resolver = None
    return QuestionStateData(
        id=question.pk,
        votes=question.vote_count,  # type: ignore[attr-defined]
        answers=question.answer_count,  # type: ignore[attr-defined]
        resolved=resolution is not None,
        resolved_at=resolution.resolved_at if resolution is not None else None,
        resolved_by=user_ref(resolver) if resolver is not None else None,
        endorsed=endorsed,
    )


def render_questions(page: list[ChatMessage], room_slug: str, reader: Any) -> list[QuestionData]:
    """A page of :func:`question_list` as the API shows it to ``reader`` (one query more:
    the endorsements of the page's questions)."""
    endorsed = _endorsements([question.pk for question in page])
    shown = [(question, shown_sender(question)) for question in page]
    return [
        QuestionData(
            id=question.pk,
            room=room_slug,
            seq=question.seq,
            sender=user_ref(sender) if sender is not None else None,
            anonymous=question.anonymous,
            own=question.sender_id == reader.pk,
            content_html=question.content_html,
            created_at=question.created_at,
            state=_state(question, endorsed.get(question.pk, [])),
            voted=bool(getattr(question, "voted", False)),
        )
        for question, sender in shown
    ]


def question_state(room: ChatRoom, question_id: int) -> QuestionStateData | None:
    """The state of the question ``question_id`` of ``room`` as it is now (None: not a
    question there, or deleted): two queries."""
    question = questions(room).filter(pk=question_id).first()
    if question is None:
        return None
    return _state(question, _endorsements([question.pk]).get(question.pk, []))


def vote_count(question: ChatMessage) -> int:
    return ChatQuestionVote.objects.filter(question=question).count()
