"""The notification centre and the notification settings without JavaScript (issue #20):
the notifications page (newest first, escaped, mark one or all read with POST forms, a GET
changes nothing), a room's notifications page and its header menu's form (level, mute for a
while or until turned back on, unmute), muted rooms dimmed in the room list, the
preferences page's notification fields with the service's errors on their fields, and
the bell in the sidebar."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from smartcampus_chat import services
from smartcampus_chat.domain.notifications import MUTED_FOREVER
from smartcampus_chat.models import (
    ChatNotification,
    ChatParticipant,
    ChatRoom,
    NotificationKind,
)
from tests.xss_corpus import PAYLOADS

pytestmark = pytest.mark.django_db

PAGE = "smartcampus_chat:notifications"


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def notify(user: Any, room: ChatRoom, sender: Any, text: str, kind: str = "mention") -> Any:
    """A message of ``sender`` in ``room`` and ``user``'s notification of it (what the
    notify step writes)."""
    message = services.do_send_message(sender, room, text).message
    notification, _created = ChatNotification.objects.update_or_create(
        user=user, message=message, defaults={"kind": kind, "room": room, "actor": sender}
    )
    return notification


def unread(user: Any) -> int:
    return ChatNotification.objects.filter(user=user, read_at__isnull=True).count()


@pytest.fixture
def room(alice: Any, bob: Any, public_room: ChatRoom) -> ChatRoom:
    services.do_join_room(bob, public_room)
    return public_room


def test_the_page_lists_notifications_newest_first_and_a_get_changes_nothing(
    alice: Any, bob: Any, room: ChatRoom
) -> None:
    notify(alice, room, bob, "first note")
    notify(alice, room, bob, "second, a reply", kind=NotificationKind.REPLY)
    html = logged_in(alice).get(reverse(PAGE)).content.decode()
    items = re.findall(r'<li class="scc-notification[^"]*" data-id="(\d+)"', html)
    assert len(items) == 2
    assert int(items[0]) > int(items[1])  # newest first
    assert html.index("second, a reply") < html.index("first note")
    assert "Reply" in html
    assert "Mention" in html
    assert html.count('class="scc-notify-read-form"') == 2
    assert "2 unread" in html
    assert f'href="{room.get_absolute_url()}' in html  # the message in context
    assert unread(alice) == 2  # showing the page read nothing


def test_mark_one_then_all_read(alice: Any, bob: Any, room: ChatRoom) -> None:
    one = notify(alice, room, bob, "one")
    notify(alice, room, bob, "two")
    notify(alice, room, bob, "three")
    client = logged_in(alice)
    read = reverse("smartcampus_chat:notifications_read")
    answer = client.post(read, {"id": one.pk})
    assert answer.status_code == 302
    assert answer["Location"] == reverse(PAGE)
    assert unread(alice) == 2
    html = client.get(reverse(PAGE)).content.decode()
    assert html.count('class="scc-notify-read-form"') == 2
    assert client.post(read, {"all": "1"}).status_code == 302
    assert unread(alice) == 0
    assert "scc-notify-read-form" not in client.get(reverse(PAGE)).content.decode()


def test_open_marks_read_and_goes_to_the_message_on_this_site_only(
    alice: Any, bob: Any, room: ChatRoom
) -> None:
    one = notify(alice, room, bob, "one")
    client = logged_in(alice)
    read = reverse("smartcampus_chat:notifications_read")
    target = f"{room.get_absolute_url()}?message={one.message_id}"
    answer = client.post(read, {"id": one.pk, "next": target})
    assert answer["Location"] == target
    # Elsewhere: back to the list instead.
    two = notify(alice, room, bob, "two")
    answer = client.post(read, {"id": two.pk, "next": "https://evil.example/"})
    assert answer["Location"] == reverse(PAGE)


@pytest.mark.parametrize("data", [{}, {"id": "x"}, {"id": "²"}])
def test_a_bad_mark_read_is_a_400_page(alice: Any, data: dict[str, str]) -> None:
    answer = logged_in(alice).post(reverse("smartcampus_chat:notifications_read"), data)
    assert answer.status_code == 400


def test_others_notifications_are_not_marked(
    alice: Any, bob: Any, make_user: Any, room: ChatRoom
) -> None:
    carol = make_user("carol")
    services.do_join_room(carol, room)
    hers = notify(carol, room, bob, "for carol")
    logged_in(alice).post(reverse("smartcampus_chat:notifications_read"), {"id": hers.pk})
    assert unread(carol) == 1


def test_the_page_escapes_names_and_text(alice: Any, bob: Any, room: ChatRoom) -> None:
    payload = next(p.text for p in PAYLOADS if "<script" in p.text.lower())
    room.name = payload[:100]
    room.save(update_fields=["name"])
    bob.first_name = payload[:150]
    bob.save(update_fields=["first_name"])
    notify(alice, room, bob, payload)
    html = logged_in(alice).get(reverse(PAGE)).content.decode()
    body = html.split('class="scc-notify-list')[1]
    assert "<script" not in body.lower()


def test_older_notifications_by_page(alice: Any, bob: Any, room: ChatRoom) -> None:
    from smartcampus_chat.queries.notifications import PAGE_SIZE

    made = [notify(alice, room, bob, f"n{i}") for i in range(PAGE_SIZE + 2)]
    client = logged_in(alice)
    html = client.get(reverse(PAGE)).content.decode()
    found = re.search(r'href="\?before=(\d+)"', html)
    assert found
    older = client.get(reverse(PAGE), {"before": found.group(1)}).content.decode()
    ids = {int(i) for i in re.findall(r'data-id="(\d+)"', older)}
    assert ids == {made[0].pk, made[1].pk}
    assert client.get(reverse(PAGE), {"before": "x"}).status_code == 400


def test_anonymous_visitors_are_sent_to_log_in(client: Client) -> None:
    answer = client.get(reverse(PAGE))
    assert answer.status_code == 302
    assert "login" in answer["Location"]


# --- A room's notifications ---------------------------------------------------------------


def setting(user: Any, room: ChatRoom) -> ChatParticipant:
    return ChatParticipant.objects.get(user=user, room=room)


def test_the_room_header_offers_the_menu_posting_to_the_rooms_page(
    bob: Any, room: ChatRoom
) -> None:
    html = logged_in(bob).get(room.get_absolute_url()).content.decode()
    menu = html.split('<details class="scc-notify-menu">')[1].split("</details>")[0]
    url = reverse("smartcampus_chat:room_notifications", args=[room.slug])
    assert f'action="{url}"' in menu
    # A public room notifies mentions by default (NOTIFY_DEFAULT_LEVELS).
    assert re.search(r'value="mentions" aria-pressed="true"', menu)
    assert re.search(r'value="all" aria-pressed="false"', menu)
    assert 'name="return" value="room"' in menu


def test_level_mute_and_unmute_by_form(bob: Any, room: ChatRoom) -> None:
    client = logged_in(bob)
    url = reverse("smartcampus_chat:room_notifications", args=[room.slug])
    assert client.get(url).status_code == 200
    answer = client.post(url, {"level": "all", "return": "room"})
    assert answer.status_code == 302
    assert answer["Location"] == room.get_absolute_url()
    assert setting(bob, room).notify_level == "all"

    before = timezone.now()
    assert client.post(url, {"mute": "8h"}).status_code == 302
    held = setting(bob, room)
    assert held.notify_level == "all"  # the level stays
    assert held.muted_until is not None
    assert timedelta(hours=8) <= held.muted_until - before < timedelta(hours=8, minutes=1)
    page = client.get(url).content.decode()
    assert "Muted until" in page
    assert 'value="off"' in page
    assert 'value="off" hidden' not in page

    assert client.post(url, {"mute": "forever"}).status_code == 302
    assert setting(bob, room).muted_until == MUTED_FOREVER
    assert "Muted until you turn it back on" in client.get(url).content.decode()

    assert client.post(url, {"mute": "off"}).status_code == 302
    held = setting(bob, room)
    assert (held.notify_level, held.muted_until) == ("all", None)


@pytest.mark.parametrize("data", [{"level": "loud"}, {"mute": "3y"}])
def test_a_bad_choice_is_shown_and_changes_nothing(
    bob: Any, room: ChatRoom, data: dict[str, str]
) -> None:
    url = reverse("smartcampus_chat:room_notifications", args=[room.slug])
    answer = logged_in(bob).post(url, data)
    assert answer.status_code == 400
    assert "scc-field-error" in answer.content.decode()
    held = setting(bob, room)
    assert (held.notify_level, held.muted_until) == ("", None)


def test_only_members_choose_a_rooms_notifications(
    make_user: Any, room: ChatRoom, alice: Any, bob: Any
) -> None:
    outsider = make_user("dave")
    url = reverse("smartcampus_chat:room_notifications", args=[room.slug])
    assert logged_in(outsider).get(url).status_code == 404
    private, _created = services.do_open_private(alice, bob)
    hidden = reverse("smartcampus_chat:room_notifications", args=[private.slug])
    assert logged_in(outsider).get(hidden).status_code == 404


def test_a_muted_room_is_dimmed_in_the_list_until_its_mute_ends(bob: Any, room: ChatRoom) -> None:
    client = logged_in(bob)
    list_url = reverse("smartcampus_chat:room_list")

    def card() -> str:
        html = client.get(list_url).content.decode()
        return html.split(f'data-room="{room.slug}"')[0].rsplit("<li", 1)[1]

    assert "scc-muted" not in card()
    ChatParticipant.objects.filter(user=bob, room=room).update(
        muted_until=timezone.now() + timedelta(hours=1)
    )
    assert "scc-muted" in card()
    html = client.get(list_url).content.decode()
    item = html.split(f'data-room="{room.slug}"')[1].split("</li>")[0]
    assert re.search(r'class="bi bi-bell-slash scc-muted-mark" role="img" aria-label="muted"', item)
    ChatParticipant.objects.filter(user=bob, room=room).update(
        muted_until=timezone.now() - timedelta(minutes=1)
    )
    assert "scc-muted" not in card()


# --- The bell and the preferences -----------------------------------------------------------


def test_the_bell_counts_unread_notifications(alice: Any, bob: Any, room: ChatRoom) -> None:
    client = logged_in(alice)
    html = client.get(reverse("smartcampus_chat:room_list")).content.decode()
    assert 'aria-label="Notifications"' in html
    notify(alice, room, bob, "one")
    notify(alice, room, bob, "two")
    html = client.get(reverse("smartcampus_chat:room_list")).content.decode()
    assert 'aria-label="Notifications, 2 unread"' in html
    assert f'href="{reverse(PAGE)}"' in html


def test_without_notifications_no_bell_nor_menu(
    alice: Any, bob: Any, room: ChatRoom, settings: Any
) -> None:
    settings.SMARTCAMPUS_CHAT = {**settings.SMARTCAMPUS_CHAT, "NOTIFICATIONS": False}
    client = logged_in(bob)
    html = client.get(room.get_absolute_url()).content.decode()
    assert "scc-bell" not in html
    assert "scc-notify-menu" not in html
    form = client.get(reverse("smartcampus_chat:preferences")).content.decode()
    assert "browser_notifications" not in form


def test_the_preferences_page_shows_and_saves_the_notification_preferences(
    bob: Any,
) -> None:
    client = logged_in(bob)
    url = reverse("smartcampus_chat:preferences")
    html = client.get(url).content.decode()
    for name in ("browser_notifications", "quiet_hours_start", "time_zone", "language"):
        assert f'name="{name}"' in html
    answer = client.post(
        url,
        {
            "read_receipts": "on",
            "quiet_hours_start": "22:00",
            "quiet_hours_end": "07:00",
            "time_zone": "Europe/Paris",
            "language": "fr",
        },
    )
    assert answer.status_code == 302
    held = services.get_preferences(bob)
    assert held.browser_notifications is False  # unticked
    assert (str(held.quiet_hours_start), str(held.quiet_hours_end)) == ("22:00:00", "07:00:00")
    assert (held.time_zone, held.language) == ("Europe/Paris", "fr")
    html = client.get(url).content.decode()
    assert 'value="22:00"' in html
    assert 'value="Europe/Paris"' in html


@pytest.mark.parametrize(
    ("data", "field", "error"),
    [
        ({"time_zone": "Mars/Olympus"}, "time_zone", "Unknown time zone."),
        ({"quiet_hours_start": "22:00"}, "quiet_hours_end", "Give both the start"),
        ({"language": "xx"}, "language", "Select a valid choice"),
    ],
)
def test_errors_show_on_their_fields_and_nothing_is_saved(
    bob: Any, data: dict[str, str], field: str, error: str
) -> None:
    answer = logged_in(bob).post(reverse("smartcampus_chat:preferences"), data)
    assert answer.status_code == 400
    html = answer.content.decode()
    # The error sits with its field, not only at the top of the form.
    wrapper = re.search(
        rf'<div class="mb-3 scc-invalid">\s*<label class="form-label" for="id_{field}">'
        r".*?</div>\s*</div>",
        html,
        re.S,
    )
    assert wrapper, html
    assert error in wrapper.group(0)
    assert 'aria-invalid="true"' in wrapper.group(0)
    held = services.get_preferences(bob)
    assert (held.time_zone, held.quiet_hours_start, held.language) == ("", None, "")


def test_in_french(alice: Any, bob: Any, room: ChatRoom) -> None:
    notify(alice, room, bob, "un")
    notify(alice, room, bob, "deux")
    client = logged_in(alice)
    shell = client.get(reverse("smartcampus_chat:room_list"), HTTP_ACCEPT_LANGUAGE="fr")
    assert 'aria-label="Notifications, 2 non lues"' in shell.content.decode()
    page = client.get(reverse(PAGE), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Tout marquer comme lu" in page
    assert "2 non lues" in page
    menu = client.get(room.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Mentions et réponses" in menu
    assert "Pendant 1 heure" in menu
