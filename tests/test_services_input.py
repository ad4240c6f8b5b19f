"""Service input that could never name an object is refused cleanly, on every database."""

from __future__ import annotations

from typing import Any

import pytest

from smartcampus_chat import services
from smartcampus_chat.domain.validation import MAX_ID
from smartcampus_chat.exceptions import NotFound, ValidationFailed
from smartcampus_chat.models import ChatRoom

pytestmark = pytest.mark.django_db

HUGE = [MAX_ID + 1, 2**80, -(2**70), 0, -1, True, "7", 3.0, None]


@pytest.mark.parametrize("message_id", HUGE)
def test_message_lookup_refuses_impossible_ids(alice: Any, message_id: Any) -> None:
    with pytest.raises(NotFound):
        services.get_message_for(alice, message_id)


@pytest.mark.parametrize("other_id", [*HUGE, "99999999999999999999999", "abc"])
def test_open_private_refuses_impossible_user_ids(alice: Any, other_id: Any) -> None:
    with pytest.raises(NotFound):
        services.check_open_private(alice, other_id)


def test_open_private_accepts_a_digit_string(alice: Any, bob: Any) -> None:
    room, created = services.check_open_private(alice, str(bob.pk))
    assert created
    assert room.room_type == "private"


@pytest.mark.parametrize("reply_to", [MAX_ID + 1, 2**80, 0, True, "1"])
def test_reply_to_must_be_a_message_id(alice: Any, public_room: ChatRoom, reply_to: Any) -> None:
    with pytest.raises(ValidationFailed) as error:
        services.check_send_message(alice, public_room, "hi", reply_to=reply_to)
    assert "reply_to" in error.value.fields
