"""How a conversation reads on the server (web/timeline.py): groups, day separators, the
"new messages" divider and the time format, in English and French. The browser client
applies the same rules (tests/browser/test_conversation.py compares both)."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone, translation

from smartcampus_chat import services
from smartcampus_chat.models import ChatMessage, ChatRoom
from smartcampus_chat.web.timeline import clock_config, day_label, timeline


def stamp(message: ChatMessage, minutes_ago: float) -> None:
    ChatMessage.objects.filter(pk=message.pk).update(
        created_at=timezone.now() - datetime.timedelta(minutes=minutes_ago)
    )


@pytest.mark.django_db
def test_groups_days_and_divider_on_the_room_page(
    client: Client, alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    services.do_join_room(bob, public_room)
    # Early in the day (the site's zone), "30 minutes ago" is yesterday: move the messages
    # forward so that "Today" is today whatever the hour the test runs.
    local = timezone.localtime()
    shift = max(0, 35 - (local.hour * 60 + local.minute))
    plan = [
        (alice, 3 * 24 * 60),
        (alice, 3 * 24 * 60 - 1),  # same author, a minute later: grouped
        (alice, 3 * 24 * 60 - 10),  # ten minutes later: a new group
        (bob, 30),  # another day: a separator
        (bob, 29),
    ]
    for user, ago in plan:
        sent = services.do_send_message(user, public_room, f"{user.username} {ago}").message
        stamp(sent, ago - shift)
    client.force_login(alice)
    page = client.get(public_room.get_absolute_url()).content.decode()
    html = page.split('id="message-list"')[1].split("</ol>")[0]
    classes = re.findall(r'<li class="(scc-message[^"]*|scc-day-separator|scc-divider)"', html)
    kinds = [
        "day"
        if c == "scc-day-separator"
        else "divider"
        if c == "scc-divider"
        else "grouped"
        if "scc-grouped" in c
        else "message"
        for c in classes
    ]
    # Alice read up to her own last message: Bob's are new to her.
    assert kinds == ["day", "message", "grouped", "message", "day", "divider", "message", "grouped"]
    assert ">Today<" in html


def test_time_and_day_formats_in_english_and_french() -> None:
    moment = datetime.datetime(2026, 3, 4, 21, 5, tzinfo=datetime.timezone.utc)
    today = datetime.date(2026, 3, 10)
    with timezone.override("Europe/Paris"), translation.override("en"):
        assert clock_config() == {"timeZone": "Europe/Paris", "locale": "en", "hour12": True}
        assert day_label(moment.date(), today) == "March 4, 2026"
        assert day_label(today, today) == "Today"
        assert day_label(today - datetime.timedelta(days=1), today) == "Yesterday"
    with timezone.override("Europe/Paris"), translation.override("fr"):
        assert clock_config()["hour12"] is False
        assert day_label(moment.date(), today) == "4 mars 2026"
        assert day_label(today, today) == "Aujourd\u2019hui"


def test_times_follow_the_language_and_time_zone() -> None:
    class Row:
        def __init__(self, message: Any) -> None:
            self.message = message

    class Message:
        seq = 1
        sender_id = 1
        anonymous = False
        created_at = datetime.datetime(2026, 3, 4, 23, 47, tzinfo=datetime.timezone.utc)

    rows = [Row(Message())]
    with timezone.override("Europe/Paris"), translation.override("en"):
        assert timeline(rows, user_id=1, last_read_seq=0)[0].time == "12:47 AM"
    with timezone.override("America/New_York"), translation.override("fr"):
        assert timeline(rows, user_id=1, last_read_seq=0)[0].time == "18:47"


def test_no_divider_when_the_unread_messages_start_on_an_older_page() -> None:
    class Row:
        def __init__(self, seq: int) -> None:
            self.message = type(
                "M",
                (),
                {"seq": seq, "sender_id": 2, "anonymous": False, "created_at": timezone.now()},
            )()

    rows = [Row(seq) for seq in range(51, 101)]
    with timezone.override("UTC"):
        off_page = timeline(rows, user_id=1, last_read_seq=10, has_before=True)
        on_page = timeline(rows, user_id=1, last_read_seq=60, has_before=True)
        first_unread = timeline(rows, user_id=1, last_read_seq=50, has_before=True)
    assert not any(item.divider for item in off_page)
    assert [item.row.message.seq for item in on_page if item.divider] == [61]
    assert [item.row.message.seq for item in first_unread if item.divider] == [51]
