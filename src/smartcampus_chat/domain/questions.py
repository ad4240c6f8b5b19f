"""What a question and an answer are in a room in Q&A mode (docs/questions.md), and the
shape of the questions list's parameters.

Who may vote, endorse and resolve is the policy's
(:class:`~smartcampus_chat.domain.policies.ChatPolicy`).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.utils.translation import gettext as _

from smartcampus_chat.exceptions import NotAnAnswer, NotAQuestion, NotQaRoom, ValidationFailed
from smartcampus_chat.models import ChatMessage, ChatRoom, MessageKind

#: ``?status=`` of the questions list.
STATUSES = ("unresolved", "resolved", "all")
#: ``?sort=``: most up-votes first (ties: oldest first), or newest first.
SORTS = ("votes", "recent")


def is_question(message: ChatMessage) -> bool:
    """A top-level message a person wrote (not a reply, not a system message, not a poll:
    docs/polls.md)."""
    return message.reply_to_id is None and message.kind == MessageKind.USER and not is_poll(message)


def is_poll(message: ChatMessage) -> bool:
    """Whether ``message`` is a poll (its poll row, loaded with it or read once)."""
    try:
        message.poll  # noqa: B018
    except ObjectDoesNotExist:
        return False
    return True


def check_qa_room(room: ChatRoom) -> None:
    if not room.qa_mode:
        raise NotQaRoom()


def check_question(room: ChatRoom, message: ChatMessage) -> None:
    """``message`` is a question of ``room``, which is in Q&A mode (deleted: the caller's
    ``message_deleted``)."""
    check_qa_room(room)
    if not is_question(message):
        raise NotAQuestion()


def check_answer(room: ChatRoom, message: ChatMessage) -> ChatMessage:
    """``message`` is an answer (a reply to a question) of ``room``; its question."""
    check_qa_room(room)
    parent = message.reply_to if message.reply_to_id is not None else None
    if parent is None or message.kind != MessageKind.USER or not is_question(parent):
        raise NotAnAnswer()
    return parent


def _choice(value: Any, name: str, choices: tuple[str, ...]) -> str:
    if value is None or value == "":
        return choices[0]
    if not isinstance(value, str) or value not in choices:
        text = _("One of: %(choices)s.") % {"choices": ", ".join(choices)}
        raise ValidationFailed(text, fields={name: [text]})
    return value


def clean_status(value: Any) -> str:
    return _choice(value, "status", STATUSES)


def clean_sort(value: Any) -> str:
    return _choice(value, "sort", SORTS)
