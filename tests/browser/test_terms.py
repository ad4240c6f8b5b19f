"""Terms and sections in the browser (docs/terms.md): an open course room closes by itself
at its course's end (the read-only banner, a status region, replaces the composer; no
frame comes then); last term's course shows it on load; a student of lab group A sees
that group's room and not group B's."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import OpenPage, composer, send, wait_until_live
from tests.browser.live import LiveServer


def course_room(live_site: LiveServer, code: str, *, ends_in_seconds: float) -> str:
    """A new course with alice enrolled, synced, ending ``ends_in_seconds`` from now; its
    room's slug. Set in another process: nothing is published, the page's clock decides."""
    out = live_site.manage(
        "shell",
        "-c",
        "import datetime; from django.utils import timezone;"
        "from django.contrib.auth import get_user_model;"
        "from courses.models import Course, Enrolment;"
        "from smartcampus_chat import services; from smartcampus_chat.models import ChatRoom;"
        f"course = Course.objects.create(code={code!r}, title='Short course');"
        "Enrolment.objects.create(course=course, role='student',"
        " user=get_user_model().objects.get(username='alice'));"
        "services.sync_course(course);"
        "rooms = ChatRoom.objects.filter(course_key=str(course.pk));"
        "rooms.update(ends_at=timezone.now()"
        f" + datetime.timedelta(seconds={ends_in_seconds}));"
        "print('SLUG', rooms.get().slug)",
    )
    return dict(marked(out))["SLUG"]


def marked(out: str, marker: str = "SLUG") -> list[tuple[str, str]]:
    """The lines of ``out`` that start with ``marker`` (the shell may log around them)."""
    return [
        (marker, line.split(" ", 1)[1])
        for line in out.splitlines()
        if line.startswith(marker + " ")
    ]


def lab_slugs(live_site: LiveServer) -> dict[str, str]:
    out = live_site.manage(
        "shell",
        "-c",
        "from smartcampus_chat.models import ChatRoom;"
        "[print('LAB', r.section_key, r.slug) for r in"
        " ChatRoom.objects.filter(name__startswith='CS101', section_key__isnull=False)]",
    )
    return dict((value.split() for _, value in marked(out, "LAB")))


@pytest.mark.timeout(300)  # the end is set a little ahead of a loaded machine's page load
def test_an_open_course_room_turns_read_only_at_the_end(
    open_page: OpenPage, live_site: LiveServer, unique: Callable[[str], str]
) -> None:
    slug = course_room(live_site, unique("T")[:20], ends_in_seconds=25)
    alice = open_page("alice", f"/chat/room/{slug}/")
    wait_until_live(alice)
    banner = alice.locator("#scc-ended-notice")
    expect(banner).to_be_hidden()
    send(alice, "Last question before the end")
    expect(alice.locator(".scc-message .scc-content", has_text="Last question")).to_have_count(1)
    # The end passes: the page closes the room by itself.
    expect(banner).to_be_visible(timeout=60_000)
    expect(banner).to_have_attribute("role", "status")
    expect(banner).to_contain_text("This course ended on")
    expect(banner).to_contain_text("the room is read-only.")
    expect(composer(alice)).to_be_hidden()
    alice.reload()  # the page itself says so too, and has no composer
    expect(alice.locator("#scc-ended-notice")).to_contain_text("This course ended on")
    expect(alice.locator("#composer")).to_have_count(0)
    expect(alice.locator(".scc-message .scc-content", has_text="Last question")).to_have_count(1)


def test_last_terms_course_is_read_only_on_load_in_french(open_page: OpenPage) -> None:
    chloe = open_page("chloe", "/chat/", locale="fr-FR")
    chloe.get_by_role("link", name="HIST110").first.click()
    banner = chloe.locator("#scc-ended-notice")
    expect(banner).to_be_visible()
    expect(chloe.locator("#composer")).to_have_count(0)


def test_a_student_sees_their_lab_groups_room_only(
    open_page: OpenPage, live_site: LiveServer
) -> None:
    labs = lab_slugs(live_site)
    alice = open_page("alice", "/chat/")
    expect(alice.locator("body")).to_contain_text("Lab group A")
    expect(alice.locator("body")).not_to_contain_text("Lab group B")
    alice.goto(f"/chat/room/{labs['lab-a']}/")
    wait_until_live(alice)
    send(alice, "Who has the lab kit?")
    expect(alice.locator(".scc-message .scc-content", has_text="lab kit")).to_have_count(1)
    refused = alice.goto(f"/chat/room/{labs['lab-b']}/")
    assert refused is not None
    assert refused.status == 404
    bob = open_page("bob", "/chat/")
    expect(bob.locator("body")).to_contain_text("Lab group B")
    expect(bob.locator("body")).not_to_contain_text("Lab group A")
