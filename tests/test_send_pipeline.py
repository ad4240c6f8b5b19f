"""One send pipeline: every door's send is :func:`services.batch.check_send_messages`.

The REST API, the HTML form and the WebSocket (group commit or not) send through the same
checks and the same store, so a rule changed in its one home is obeyed by every door, with
the same error.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.test import Client
from django.urls import reverse

from smartcampus_chat import services, signals
from smartcampus_chat.exceptions import ValidationFailed
from smartcampus_chat.models import ChatMessage, ChatParticipant, ChatRoom
from smartcampus_chat.services import batch, messages
from smartcampus_chat.services.batch import SendRequest
from smartcampus_chat.testing import open_room

pytestmark = pytest.mark.django_db(transaction=True)

REFUSAL = "No homework answers here."


@pytest.fixture
def stricter_content(monkeypatch: pytest.MonkeyPatch) -> None:
    """A host's extra content rule, added once where the content rule lives."""
    original = messages.clean_content

    def clean_content(content: Any, **rules: Any) -> str:
        text = original(content, **rules)
        if "answer key" in text:
            raise ValidationFailed(fields={"content": [REFUSAL]})
        return text

    monkeypatch.setattr(messages, "clean_content", clean_content)


def _api_send(user: Any, room: ChatRoom, content: str) -> Any:
    client = Client()
    client.force_login(user)
    path = reverse("smartcampus_chat:api-message-list", kwargs={"room_slug": room.slug})
    return client.post(path, json.dumps({"content": content}), content_type="application/json")


def _form_send(user: Any, room: ChatRoom, content: str) -> Any:
    client = Client()
    client.force_login(user)
    return client.post(room.get_absolute_url(), {"content": content})


async def _socket_send(user: Any, room: ChatRoom, content: str) -> dict[str, Any]:
    client = await open_room(user, room.slug)
    await client.send_frame(type="message.send", content=content, id="s")
    answer = await client.receive_until(lambda frame: frame.get("id") == "s")
    await client.disconnect()
    assert answer["type"] == "error", f"the socket stored what the API refused: {answer}"
    return dict(answer)


@pytest.mark.parametrize("batch_max", [100, 1], ids=["group-commit", "one-commit-per-send"])
async def test_a_rule_changed_in_its_home_is_obeyed_by_every_door_alike(
    alice: Any, public_room: ChatRoom, stricter_content: None, settings: Any, batch_max: int
) -> None:
    settings.SMARTCAMPUS_CHAT = {**settings.SMARTCAMPUS_CHAT, "SEND_BATCH_MAX": batch_max}
    db = database_sync_to_async
    api = await db(_api_send)(alice, public_room, "the answer key, anyone?")
    assert api.status_code == 400, api.content
    api_error = api.json()["error"]
    form = await db(_form_send)(alice, public_room, "the answer key, anyone?")
    assert form.status_code == 400
    assert REFUSAL in form.content.decode()
    socket_error = await _socket_send(alice, public_room, "the answer key, anyone?")
    assert socket_error["id"] == "s"
    assert {key: socket_error[key] for key in ("code", "message", "fields")} == api_error
    assert api_error["fields"] == {"content": [REFUSAL]}
    assert not await db(ChatMessage.objects.exists)()


def test_single_sends_are_batches_of_one(
    alice: Any, public_room: ChatRoom, monkeypatch: pytest.MonkeyPatch
) -> None:
    batches: list[int] = []
    original = batch.check_send_messages

    def counted(requests: list[Any]) -> Any:
        batches.append(len(requests))
        return original(requests)

    monkeypatch.setattr(batch, "check_send_messages", counted)
    assert _api_send(alice, public_room, "through the API").status_code == 201
    assert _form_send(alice, public_room, "through the form").status_code == 302
    services.check_send_message(alice, public_room, "through the service")
    assert batches == [1, 1, 1]
    assert ChatMessage.objects.count() == 3


def test_a_first_message_announces_the_stored_participant(
    alice: Any, bob: Any, make_user: Any, public_room: ChatRoom
) -> None:
    """``member_joined`` of a sender's first message carries the stored row, one send or
    several (group commit used to hand receivers rows without a primary key)."""
    joined: list[Any] = []

    def receiver(sender: Any, participant: Any, **kwargs: Any) -> None:
        joined.append(participant)

    signals.member_joined.connect(receiver)
    try:
        services.check_send_message(bob, public_room, "first, alone")
        carol = make_user("carol")
        together = [SendRequest(carol, public_room, "hey"), SendRequest(alice, public_room, "hi")]
        batch.check_send_messages(together)
    finally:
        signals.member_joined.disconnect(receiver)
    stored = {p.user_id: p.pk for p in ChatParticipant.objects.filter(room=public_room)}
    assert [(p.user_id, p.pk) for p in joined] == [
        (bob.pk, stored[bob.pk]),
        (carol.pk, stored[carol.pk]),
    ]
