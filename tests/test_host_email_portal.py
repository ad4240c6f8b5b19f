"""A campus portal built like the one of issue #17, from the docs: an e-mail login user
model (no username), its own layout with other block names (the adapter template of
docs/integration.md), a courses app whose enrolments drive the chat's course rooms
through the roster hook, and the chat under ``/messages/``.

A realistic walk-through (pages, REST API, WebSocket frames) then checks that no response
body and no frame contains an e-mail address, that the directory is scoped, and that
course rooms are created and joined on enrolment, and left on unenrolment.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests import portal

CHILD = textwrap.dedent(
    r"""
    import asyncio, json, os, re
    os.environ["DJANGO_SETTINGS_MODULE"] = "mysite.settings"
    import django
    django.setup()
    from django.core.management import call_command
    from django.test.utils import setup_test_environment
    setup_test_environment()
    call_command("makemigrations", "accounts", "courses", verbosity=0)
    call_command("migrate", verbosity=0)
    call_command("check", fail_level="ERROR")

    from channels.db import database_sync_to_async
    from channels.testing import WebsocketCommunicator
    from django.contrib.auth import get_user_model
    from django.test import Client
    from courses.models import Course, Enrollment
    from mysite.asgi import application
    from smartcampus_chat.models import ChatParticipant, ChatRoom

    User = get_user_model()
    ann = User.objects.create_user("ann.lee@campus.example", "pw", full_name="Ann Lee")
    ben = User.objects.create_user("ben.k@campus.example", "pw")  # no name at all
    tara = User.objects.create_user("tara.ng@campus.example", "pw", full_name="Tara Ng")
    eve = User.objects.create_user("eve@campus.example", "pw", full_name="Eve Outsider")
    course = Course.objects.create(code="CS101", title="Programming")

    seen = []  # every body and frame of the walk-through

    def get(user, path, **params):
        client = Client()
        client.force_login(user)
        response = client.get(path, params)
        assert response.status_code == 200, (path, response.status_code)
        seen.append(response.content.decode())
        return response

    def post(user, path, data=None):
        client = Client()
        client.force_login(user)
        body = json.dumps(data or {})
        response = client.post(path, body, content_type="application/json")
        seen.append(response.content.decode())
        return response

    async def frames_of(socket):
        while not await socket.receive_nothing(timeout=0.3):
            seen.append(await socket.receive_from())

    async def open_socket(user, path):
        headers = [(b"origin", b"http://testserver"), (b"host", b"testserver")]
        socket = WebsocketCommunicator(application, path, headers=headers)
        socket.scope["user"] = user
        connected = await socket.connect()
        assert connected[0], (path, connected)
        await socket.send_json_to({"type": "ping", "id": "ready"})
        while json.loads(await socket.receive_from(timeout=5))["type"] != "pong":
            pass
        return socket

    async def live():
        ann_user = await open_socket(ann, "/ws/chat/")
        # Enrolling creates the course room (owned by nobody) and joins ann live.
        await database_sync_to_async(Enrollment.objects.create)(user=ann, course=course)
        added = json.loads(await ann_user.receive_from(timeout=5))
        while added["type"] != "room.added":
            added = json.loads(await ann_user.receive_from(timeout=5))
        seen.append(json.dumps(added))
        slug = added["room"]["slug"]
        room_socket = await open_socket(ann, f"/ws/chat/{slug}/")
        await database_sync_to_async(Enrollment.objects.create)(user=ben, course=course)
        await database_sync_to_async(Enrollment.objects.create)(user=tara, course=course, role="ta")
        ben_socket = await open_socket(ben, f"/ws/chat/{slug}/")
        await ben_socket.send_json_to({"type": "typing", "state": "started"})
        await ben_socket.send_json_to(
            {"type": "message.send", "content": "hello all", "client_id": "b1", "id": 1}
        )
        await room_socket.send_json_to({"type": "resume", "event_seq": 0, "id": 3})
        for socket in (ann_user, room_socket, ben_socket):
            await frames_of(socket)
        assert any('"hello all"' in text for text in seen)
        assert not any('"type": "error"' in text or '"type":"error"' in text for text in seen)
        # Unenrolling removes ben live, for everyone.
        await database_sync_to_async(Enrollment.objects.filter(user=ben).delete)()
        await frames_of(room_socket)
        for socket in (ann_user, room_socket, ben_socket):
            await socket.disconnect()
        return slug

    slug = asyncio.run(live())
    room = ChatRoom.objects.get(slug=slug)
    assert room.created_by is None and room.course_key == str(course.pk)
    roles = dict(ChatParticipant.objects.filter(room=room).values_list("user__full_name", "role"))
    assert roles == {"Ann Lee": "member", "Tara Ng": "moderator"}, roles
    assert any('"participant.left"' in text and "User %d" % ben.pk in text for text in seen)

    # Pages inside the host layout, and the API.
    page = get(ann, "/messages/")
    assert "Campus portal" in page.content.decode()
    get(ann, f"/messages/room/{slug}/")
    get(tara, f"/messages/room/{slug}/settings/")
    people = get(ann, "/messages/people/", q="Tara").content.decode()
    assert "Tara Ng" in people
    assert "Tara Ng" not in get(ann, "/messages/people/", q="tara.ng@").content.decode()
    assert "Tara Ng" not in get(eve, "/messages/people/", q="Tara").content.decode()
    get(ann, "/messages/people/", q="campus.example")
    api = "/messages/api/"
    listed = get(ann, api + "rooms/").json()["results"]
    assert [r["course"] for r in listed] == [str(course.pk)]
    get(ann, api + f"rooms/{slug}/")
    members = get(ann, api + f"rooms/{slug}/members/").json()["results"]
    roles = {m["user"]["name"]: m["role"] for m in members}
    assert roles == {"Ann Lee": "member", "Tara Ng": "moderator"}, roles
    assert all(m["user"]["username"] is None for m in members)
    get(ann, api + f"rooms/{slug}/messages/")
    get(ann, api + "unread/")
    users = get(ann, api + "users/").json()["results"]
    assert {u["name"] for u in users} == {"Ann Lee", "Tara Ng"}, users
    assert get(ann, api + "users/", search="campus").json()["results"] == []
    assert get(eve, api + "users/").json()["results"] == []
    private = post(ann, api + "private/", {"user": tara.pk})
    assert private.status_code in (200, 201), private.content
    get(ann, "/messages/")
    get(tara, "/messages/")
    get(ann, api + "rooms/")

    texts = "\n".join(seen)
    assert "Ann Lee" in texts and "User %d" % ben.pk in texts
    leaks = sorted(set(re.findall(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", texts)))
    assert not leaks, leaks
    print("PORTAL-OK", len(seen))
    """
)


@pytest.mark.slow
def test_email_login_portal_never_shows_an_email_address(tmp_path: Path) -> None:
    env = portal.build(tmp_path)
    result = subprocess.run(
        [sys.executable, "-c", CHILD],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"PORTAL-OK \d+", result.stdout)
