"""A student who owns a public room cannot lock staff out of it; staff can.

Policy (docs/integration.md, "Access rules"): staff keep access to every room they can
see. Removing a member is for the room's owner and moderators, but removing a *staff*
member is for staff only (or the Django admin); removing students stays the owner's call.
Checked through every door: REST, the HTML settings page and form, and the staff
member's open WebSocket, which keeps receiving.
"""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.test import Client as HTTPClient
from django.urls import reverse

from smartcampus_chat import services
from smartcampus_chat.models import ChatParticipant, ChatRoom
from smartcampus_chat.testing import open_room

pytestmark = pytest.mark.django_db(transaction=True)
db = database_sync_to_async


def _member_url(room: ChatRoom, user: Any) -> str:
    return reverse(
        "smartcampus_chat:api-member-detail", kwargs={"room_slug": room.slug, "user_id": user.pk}
    )


def _remove_url(room: ChatRoom, user: Any) -> str:
    return reverse("smartcampus_chat:member_remove", kwargs={"slug": room.slug, "user_id": user.pk})


def _as(user: Any) -> HTTPClient:
    client = HTTPClient()
    client.force_login(user)
    return client


def _banned(room: ChatRoom, user: Any) -> bool:
    return ChatParticipant.objects.filter(room=room, user=user, is_banned=True).exists()


@pytest.fixture
def room_with_staff(public_room: ChatRoom, staff: Any, bob: Any) -> ChatRoom:
    """alice (a student) owns the room; staff and bob joined it."""
    services.do_join_room(staff, public_room)
    services.do_join_room(bob, public_room)
    return public_room


def test_rest_the_student_owner_cannot_remove_staff(
    alice: Any, staff: Any, room_with_staff: ChatRoom
) -> None:
    response = _as(alice).delete(_member_url(room_with_staff, staff))
    assert response.status_code == 403, response.content
    assert response.json()["error"]["code"] == "forbidden"
    assert not _banned(room_with_staff, staff)
    detail = reverse("smartcampus_chat:api-room-detail", kwargs={"slug": room_with_staff.slug})
    assert _as(staff).get(detail).status_code == 200


def test_rest_the_student_owner_still_removes_students(
    alice: Any, bob: Any, room_with_staff: ChatRoom
) -> None:
    response = _as(alice).delete(_member_url(room_with_staff, bob))
    assert response.status_code in (200, 204), response.content
    assert _banned(room_with_staff, bob)


def test_rest_staff_may_remove_staff(make_user: Any, staff: Any, room_with_staff: ChatRoom) -> None:
    other = make_user("staff2", is_staff=True)
    services.do_join_room(other, room_with_staff)
    response = _as(other).delete(_member_url(room_with_staff, staff))
    assert response.status_code in (200, 204), response.content
    assert _banned(room_with_staff, staff)


def test_html_the_form_refuses_and_the_page_offers_no_button(
    alice: Any, staff: Any, bob: Any, room_with_staff: ChatRoom
) -> None:
    owner = _as(alice)
    page = owner.get(reverse("smartcampus_chat:room_settings", args=[room_with_staff.slug]))
    assert page.status_code == 200
    html = page.content.decode()
    assert _remove_url(room_with_staff, bob) in html
    assert _remove_url(room_with_staff, staff) not in html
    response = owner.post(_remove_url(room_with_staff, staff))
    assert response.status_code == 403
    assert not _banned(room_with_staff, staff)


async def test_ws_the_staff_socket_keeps_receiving(
    alice: Any, staff: Any, room_with_staff: ChatRoom
) -> None:
    socket = await open_room(staff, room_with_staff.slug)
    try:
        url = _member_url(room_with_staff, staff)
        response = await db(lambda: _as(alice).delete(url))()
        assert response.status_code == 403
        await db(services.do_send_message)(alice, room_with_staff, "still there?")
        frame = await socket.receive_frame("message.new")
        assert frame["message"]["content"] == "still there?"
    finally:
        await socket.disconnect()
