"""E-mail digests (docs/notifications.md, "E-mail digests"): one e-mail per person listing
exactly the notifications handed to the channel, in the person's language and time zone,
plain text + HTML, with a working one-click unsubscribe (RFC 8058); through Django's
locmem backend and through a real SMTP server on 127.0.0.1 (aiosmtpd)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core import mail, signing
from django.test import Client
from django.utils import timezone as django_timezone

from smartcampus_chat import queries, services
from smartcampus_chat.domain.unsubscribe import unsubscribe_token
from smartcampus_chat.markup import plain_text, render
from smartcampus_chat.models import (
    ChatMessage,
    ChatNotification,
    ChatNotificationDelivery,
    ChatPreferences,
    ChatRoom,
    NotificationKind,
)
from smartcampus_chat.notifications import deliver_due, email
from smartcampus_chat.notifications.channels import Outcome, Pending
from tests.smtp_server import SmtpServer, free_port
from tests.xss_corpus import PAYLOADS

SITE = "https://campus.example.edu"
FROM = "SmartCampus chat <chat@campus.example.edu>"
WHEN = datetime(2026, 12, 7, 8, 30, tzinfo=timezone.utc)
now = django_timezone.now

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def email_settings(settings: Any) -> Any:
    settings.SMARTCAMPUS_CHAT = {
        **settings.SMARTCAMPUS_CHAT,
        "NOTIFY_EMAIL": True,
        "NOTIFY_SITE_URL": SITE,
        "NOTIFY_EMAIL_FROM": FROM,
        "SEND_RATE_BURST": 1_000_000,
    }
    return settings


@pytest.fixture
def carol(make_user: Callable[..., Any]) -> Any:
    return make_user("carol", first_name="Carol", email="carol@campus.example.edu")


@pytest.fixture
def reader(make_user: Callable[..., Any]) -> Any:
    """The person the digests are for."""
    return make_user("dana", first_name="Dana", email="dana@campus.example.edu")


@pytest.fixture
def room(alice: Any, bob: Any, reader: Any) -> ChatRoom:
    room = services.do_create_room(alice, name="Robotics club", room_type="public")
    services.do_join_room(bob, room)
    services.do_join_room(reader, room)
    return room


def say(user: Any, room: ChatRoom, content: str) -> ChatMessage:
    return services.check_send_message(user, room, content).message


def notify(
    user: Any,
    message: ChatMessage,
    *,
    kind: str = NotificationKind.MENTION,
    read: bool = False,
    at: datetime = WHEN,
) -> ChatNotificationDelivery:
    """The notification of ``message`` for ``user`` and its e-mail delivery (as the notify
    step writes them; the step's own rows are kept when it wrote them already)."""
    notification, _created = ChatNotification.objects.get_or_create(
        user=user,
        message=message,
        defaults={"kind": kind, "room": message.room, "actor": message.sender},
    )
    notification.kind = kind
    notification.created_at = at
    notification.read_at = at if read else None
    notification.save()
    delivery, _created = ChatNotificationDelivery.objects.get_or_create(
        notification=notification, channel="email"
    )
    return delivery


def pending(*deliveries: ChatNotificationDelivery) -> list[Pending]:
    """The claimed rows the worker hands the channel: loaded from the database."""
    rows = ChatNotificationDelivery.objects.select_related(
        "notification__message__room",
        "notification__room",
        "notification__actor",
        "notification__user",
    ).filter(pk__in=[d.pk for d in deliveries])
    return [Pending(row, queries.preferences_of(row.notification.user)) for row in rows]


def set_preferences(user: Any, **fields: Any) -> None:
    ChatPreferences.objects.update_or_create(user=user, defaults=fields)


def html_part(message: mail.EmailMessage) -> str:
    assert isinstance(message, mail.EmailMultiAlternatives)
    alternatives = [(content, kind) for content, kind in message.alternatives]
    assert [kind for _content, kind in alternatives] == ["text/html"]
    content = alternatives[0][0]
    assert isinstance(content, str)
    return content


def unsubscribe_path(message: mail.EmailMessage) -> str:
    header = message.extra_headers["List-Unsubscribe"]
    found = re.fullmatch(r"<(https://campus\.example\.edu(/chat/unsubscribe/[^/>]+/))>", header)
    assert found, header
    return found.group(2)


# --- What a digest holds ------------------------------------------------------------------


def test_one_email_lists_exactly_the_notifications_given(
    room: ChatRoom, alice: Any, bob: Any, reader: Any
) -> None:
    first = notify(reader, say(bob, room, "@dana the **robot** arm is ready"))
    second = notify(reader, say(alice, room, "@dana can you bring the batteries?"))
    # Read, and in a muted room: rows the worker does not hand the channel.
    notify(reader, say(bob, room, "@dana old news"), read=True)
    other_room = services.do_create_room(alice, name="Muted room", room_type="public")
    services.do_join_room(reader, other_room)
    notify(reader, say(alice, other_room, "@dana muted chatter"))

    outcomes = email.deliver(pending(first, second))

    assert outcomes == {first.pk: Outcome("sent"), second.pk: Outcome("sent")}
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert isinstance(sent, mail.EmailMultiAlternatives)
    assert sent.to == ["dana@campus.example.edu"]
    assert sent.from_email == FROM
    assert sent.subject == "2 unread messages on SmartCampus"
    for part in (sent.body, html_part(sent)):
        assert "Robotics club" in part
        assert "the robot arm is ready" in part
        assert "can you bring the batteries?" in part
        assert "Bob mentioned you" in part
        assert "Alice mentioned you" in part
        assert "old news" not in part
        assert "muted chatter" not in part
        assert "Muted room" not in part
    # Dated in the site's time zone (UTC here), in English.
    assert "Dec. 7, 2026, 8:30 a.m. (UTC)" in sent.body
    assert sent.body.startswith("Hello Dana,")
    assert sent.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert sent.extra_headers["Auto-Submitted"] == "auto-generated"
    unsubscribe_path(sent)


def test_the_links_open_the_message_in_its_room(room: ChatRoom, bob: Any, reader: Any) -> None:
    message = say(bob, room, "@dana look at this")
    email.deliver(pending(notify(reader, message)))
    body = mail.outbox[0].body
    link = f"{SITE}/chat/room/{room.slug}/?message={message.pk}"
    assert link in body
    assert f'href="{link}"' in html_part(mail.outbox[0])
    client = Client()
    client.force_login(reader)
    response = client.get(urlsplit(link).path + "?" + urlsplit(link).query)
    assert response.status_code == 302
    assert response["Location"].endswith(f"#message-{message.pk}")
    assert client.get(response["Location"]).status_code == 200


def test_a_french_reader_gets_french_in_their_time_zone(
    room: ChatRoom, bob: Any, reader: Any
) -> None:
    set_preferences(reader, language="fr", time_zone="Europe/Paris")
    deliveries = [
        notify(reader, say(bob, room, "@dana premier")),
        notify(reader, say(bob, room, "@dana second"), kind=NotificationKind.REPLY),
    ]
    email.deliver(pending(*deliveries))
    sent = mail.outbox[0]
    assert sent.subject == "2 messages non lus sur SmartCampus"
    html = html_part(sent)
    for part in (sent.body, html):
        assert "Bonjour Dana," in part
        assert "Bob vous a mentionné" in part
        assert "Bob vous a répondu" in part
        assert "7 décembre 2026 09:30 (CET)" in part
        assert "unread" not in part
    assert '<html lang="fr">' in html
    assert "Ne plus recevoir ces e-mails" in html


def test_one_email_per_person(room: ChatRoom, bob: Any, reader: Any, carol: Any) -> None:
    services.do_join_room(carol, room)
    message = say(bob, room, "@dana @carol meeting at noon")
    rows = pending(
        notify(reader, message),
        notify(carol, message),
        notify(reader, say(bob, room, "@dana and bring snacks")),
    )
    outcomes = email.deliver(rows)
    assert set(outcomes.values()) == {Outcome("sent")}
    assert sorted(m.to[0] for m in mail.outbox) == [
        "carol@campus.example.edu",
        "dana@campus.example.edu",
    ]
    by_address = {m.to[0]: m for m in mail.outbox}
    assert by_address["carol@campus.example.edu"].subject == "1 unread message on SmartCampus"
    assert "and bring snacks" not in by_address["carol@campus.example.edu"].body
    assert "and bring snacks" in by_address["dana@campus.example.edu"].body
    # Each person's own unsubscribe link.
    assert unsubscribe_path(by_address["carol@campus.example.edu"]) != unsubscribe_path(
        by_address["dana@campus.example.edu"]
    )


def test_private_text_stays_out_unless_the_person_opts_in(bob: Any, reader: Any) -> None:
    private, _created = services.do_open_private(bob, reader)
    delivery = notify(reader, say(bob, private, "my secret plan"), kind=NotificationKind.PRIVATE)
    email.deliver(pending(delivery))
    hidden = mail.outbox[0]
    assert "my secret plan" not in hidden.body
    assert "my secret plan" not in html_part(hidden)
    assert "Open the conversation to read this message." in hidden.body
    assert "Bob sent you a message" in hidden.body
    assert "== Bob ==" in hidden.body  # the conversation is titled with the other person

    set_preferences(reader, push_private_content=True)
    email.deliver(pending(delivery))
    assert "my secret plan" in mail.outbox[1].body


def test_a_deleted_message_shows_no_text(room: ChatRoom, bob: Any, reader: Any) -> None:
    message = say(bob, room, "@dana oops wrong room")
    services.do_delete_message(bob, message)
    email.deliver(pending(notify(reader, message)))
    assert "oops" not in mail.outbox[0].body
    assert "This message was deleted." in mail.outbox[0].body


def test_a_message_of_files_only_and_a_deleted_sender(
    room: ChatRoom, bob: Any, reader: Any
) -> None:
    """No text (the message carried only files): no excerpt, and not called deleted; a
    sender whose account was deleted since is "Former member"."""
    message = ChatMessage(pk=10**6, seq=1, room=room, sender=None, content="", content_html="")
    notification = ChatNotification(
        pk=1, user=reader, kind="mention", room=room, message=message, actor=None, created_at=WHEN
    )
    delivery = ChatNotificationDelivery(pk=1, notification=notification, channel="email")
    digest = email.build_digest([Pending(delivery, ChatPreferences(user=reader))])
    for part in (digest.body, html_part(digest)):
        assert "Former member mentioned you" in part
        assert "deleted." not in part
        assert "Open the conversation" not in part
        assert f"?message={10**6}" in part


def test_no_address_is_skipped(room: ChatRoom, bob: Any, make_user: Callable[..., Any]) -> None:
    nomail = make_user("nomail")
    services.do_join_room(nomail, room)
    delivery = notify(nomail, say(bob, room, "@nomail hello"))
    assert email.deliver(pending(delivery)) == {
        delivery.pk: Outcome("skipped", "no e-mail address")
    }
    assert mail.outbox == []


def test_no_site_address_is_retried(room: ChatRoom, bob: Any, reader: Any, settings: Any) -> None:
    delivery = notify(reader, say(bob, room, "@dana hi"))
    settings.SMARTCAMPUS_CHAT = {**settings.SMARTCAMPUS_CHAT, "NOTIFY_SITE_URL": None}
    outcome = email.deliver(pending(delivery))[delivery.pk]
    assert outcome.state == "retry"
    assert "NOTIFY_SITE_URL" in outcome.detail
    assert mail.outbox == []


# --- Escaping -----------------------------------------------------------------------------

#: What the digest's HTML template writes: its elements and attributes, nothing else.
DIGEST_ELEMENTS = {"html", "head", "meta", "title", "body", "p", "h2", "a", "ul", "li"}
DIGEST_ELEMENTS |= {"strong", "span", "em", "hr"}
DIGEST_ATTRIBUTES = {"lang", "charset", "name", "content", "style", "href"}


class _Audit(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.text: list[str] = []
        self.styles: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in DIGEST_ELEMENTS:
            self.problems.append(f"element <{tag}>")
        for name, value in attrs:
            if name not in DIGEST_ATTRIBUTES:
                self.problems.append(f"attribute {name}={value!r} on <{tag}>")
            elif name == "href" and not (value or "").startswith(SITE + "/"):
                self.problems.append(f"link {value!r}")
            elif name == "style":
                self.styles.add(value or "")

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def handle_comment(self, data: str) -> None:
        self.problems.append(f"comment {data!r}")

    def handle_pi(self, data: str) -> None:
        self.problems.append(f"processing instruction {data!r}")


def audit(html: str) -> _Audit:
    found = _Audit()
    found.feed(html)
    found.close()
    return found


def test_every_xss_payload_in_a_digest_is_text(
    room: ChatRoom, alice: Any, bob: Any, reader: Any
) -> None:
    """Each payload of tests/xss_corpus.py as the sender's name, the room's name and the
    message: the digest's HTML holds only the template's own elements, attributes and
    styles, and shows each payload's text once escaped (not lost, not escaped twice)."""
    plain_styles = audit(_digest_html(room, bob, reader, "plain")).styles
    for payload in PAYLOADS:
        html = _digest_html(room, bob, reader, payload.text)
        found = audit(html)
        assert not found.problems, (payload.number, found.problems)
        assert found.styles == plain_styles, payload.number
        text = "".join(found.text)
        assert " ".join(payload.text.split()) in " ".join(text.split()), payload.number
        excerpt = " ".join(plain_text(render(payload.text)).split())
        assert excerpt[:100] in " ".join(text.split()), payload.number


def _digest_html(room: ChatRoom, actor: Any, reader: Any, text: str) -> str:
    """A digest of one notification whose sender, room and message are ``text``, from
    unsaved rows (no database round trip per payload)."""
    actor.first_name = text
    room = ChatRoom(pk=room.pk, slug=room.slug, name=text, room_type="public")
    message = ChatMessage(
        pk=10**6, seq=1, room=room, sender=actor, content=text, content_html=render(text)
    )
    notification = ChatNotification(
        pk=1, user=reader, kind="mention", room=room, message=message, actor=actor, created_at=WHEN
    )
    delivery = ChatNotificationDelivery(pk=1, notification=notification, channel="email")
    digest = email.build_digest([Pending(delivery, ChatPreferences(user=reader))])
    return html_part(digest)


def test_payloads_through_the_real_path_reach_the_outbox_escaped(
    room: ChatRoom, bob: Any, reader: Any
) -> None:
    sample = PAYLOADS[::97]
    rows = []
    for payload in sample:
        rows.append(notify(reader, say(bob, room, f"@dana {payload.text}")))
    email.deliver(pending(*rows))
    html = html_part(mail.outbox[0])
    assert not audit(html).problems


# --- Unsubscribe --------------------------------------------------------------------------


def _digest_for(reader: Any, room: ChatRoom, bob: Any) -> mail.EmailMessage:
    email.deliver(pending(notify(reader, say(bob, room, "@dana ping"))))
    return mail.outbox[-1]


def test_one_click_unsubscribe_from_the_header(room: ChatRoom, bob: Any, reader: Any) -> None:
    path = unsubscribe_path(_digest_for(reader, room, bob))
    # The mail client's RFC 8058 POST: no session, no CSRF token.
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    assert "You will no longer get e-mail digests." in response.content.decode()
    assert queries.preferences_of(reader).email_digests is False
    # Again: still fine (nothing left to turn off).
    again = client.post(path, {"List-Unsubscribe": "One-Click"})
    assert again.status_code == 200


def test_the_page_asks_first_and_a_get_changes_nothing(
    room: ChatRoom, bob: Any, reader: Any
) -> None:
    message = _digest_for(reader, room, bob)
    path = unsubscribe_path(message)
    assert f'href="{SITE}{path}"' in html_part(message)
    assert f"{SITE}{path}" in message.body
    client = Client(enforce_csrf_checks=True)
    page = client.get(path)
    assert page.status_code == 200
    content = page.content.decode()
    assert "Unsubscribe from e-mail digests" in content
    assert 'method="post"' in content
    assert page["Cache-Control"].startswith("max-age=0")
    assert "Content-Security-Policy" in page
    assert client.head(path).status_code == 200  # link checkers
    assert client.put(path).status_code == 405
    assert queries.preferences_of(reader).email_digests is None
    assert not ChatPreferences.objects.filter(user=reader).exists()
    # The page's own button: a form POST, no CSRF token either.
    done = client.post(path, {"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200
    assert "/chat/preferences/" in done.content.decode()
    assert queries.preferences_of(reader).email_digests is False


def test_the_page_in_french(reader: Any) -> None:
    path = f"/chat/unsubscribe/{unsubscribe_token(reader.pk)}/"
    page = Client().get(path, headers={"accept-language": "fr"})
    assert "Se désabonner des résumés par e-mail" in page.content.decode()
    done = Client().post(path, headers={"accept-language": "fr"})
    assert "Vous ne recevrez plus de résumés par e-mail." in done.content.decode()


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"), id="altered"),
        pytest.param(
            lambda token: signing.Signer(salt="other").sign_object({"u": 1, "p": "email_digests"}),
            id="other-salt",
        ),
        pytest.param(
            lambda token: signing.Signer(salt="smartcampus_chat.unsubscribe").sign_object(
                {"u": 1, "p": "push"}
            ),
            id="other-purpose",
        ),
        pytest.param(lambda token: "nonsense", id="nonsense"),
        pytest.param(lambda token: unsubscribe_token(10**9), id="no-such-user"),
    ],
)
def test_a_forged_link_is_refused(reader: Any, forge: Callable[[str], str]) -> None:
    token = forge(unsubscribe_token(reader.pk))
    path = f"/chat/unsubscribe/{token}/"
    for response in (Client().get(path), Client().post(path, {"List-Unsubscribe": "One-Click"})):
        assert response.status_code == 400
        assert "This unsubscribe link is not valid." in response.content.decode()
    assert queries.preferences_of(reader).email_digests is None


def test_a_link_of_another_person_touches_only_theirs(reader: Any, carol: Any) -> None:
    Client().post(f"/chat/unsubscribe/{unsubscribe_token(carol.pk)}/")
    assert queries.preferences_of(carol).email_digests is False
    assert queries.preferences_of(reader).email_digests is None


# --- A real SMTP server -------------------------------------------------------------------


@pytest.fixture
def smtp(settings: Any) -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        use_smtp(settings, server.port)
        yield server


def use_smtp(settings: Any, port: int) -> None:
    """Django's SMTP backend to 127.0.0.1:``port``: the default mailer (Django 6.1's
    ``MAILERS``), or the ``EMAIL_*`` settings before it."""
    backend = "django.core.mail.backends.smtp.EmailBackend"
    if hasattr(mail, "mailers"):
        options = {"host": "127.0.0.1", "port": port, "timeout": 5}
        settings.MAILERS = {"default": {"BACKEND": backend, "OPTIONS": options}}
    else:
        settings.EMAIL_BACKEND = backend
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = port
        settings.EMAIL_TIMEOUT = 5


def test_a_digest_through_a_real_smtp_server(
    smtp: SmtpServer, room: ChatRoom, bob: Any, reader: Any
) -> None:
    set_preferences(reader, language="fr")
    deliveries = [notify(reader, say(bob, room, f"@dana message {n}")) for n in range(3)]
    outcomes = email.deliver(pending(*deliveries))
    assert outcomes == {d.pk: Outcome("sent") for d in deliveries}
    [received] = smtp.received
    assert received.mail_from == "chat@campus.example.edu"
    assert received.rcpt_tos == ["dana@campus.example.edu"]
    message = received.message
    assert message["Subject"] == "3 messages non lus sur SmartCampus"
    assert message["To"] == "dana@campus.example.edu"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = re.fullmatch(
        r"<(https://campus\.example\.edu/chat/unsubscribe/[^/>]+/)>", message["List-Unsubscribe"]
    )
    assert unsubscribe
    # On one line as it is, not as RFC 2047 encoded words mail clients would not decode.
    header_lines = received.raw.split(b"\r\n\r\n")[0].split(b"\r\n")
    assert f"List-Unsubscribe: <{unsubscribe.group(1)}>".encode() in header_lines
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None
    assert html is not None
    for part in (text.get_content(), html.get_content()):
        for n in range(3):
            assert f"message {n}" in part
        assert "Bob vous a mentionné" in part
    # The link works: the one-click POST turns the digests off.
    response = Client().post(
        urlsplit(unsubscribe.group(1)).path,
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert queries.preferences_of(reader).email_digests is False


def test_refused_recipients_fail_and_the_others_are_sent(
    smtp: SmtpServer,
    room: ChatRoom,
    bob: Any,
    reader: Any,
    carol: Any,
    make_user: Callable[..., Any],
) -> None:
    eve = make_user("eve", email="eve@campus.example.edu")
    for user in (carol, eve):
        services.do_join_room(user, room)
    smtp.refuse("carol@campus.example.edu", "550 5.1.1 No such user")
    smtp.refuse("eve@campus.example.edu", "451 4.3.0 Try again later")
    message = say(bob, room, "@dana @carol @eve hello all")
    to_carol, to_dana, to_eve = (notify(user, message) for user in (carol, reader, eve))
    outcomes = email.deliver(pending(to_carol, to_dana, to_eve))
    assert outcomes[to_carol.pk].state == "failed"
    assert "550" in outcomes[to_carol.pk].detail
    assert outcomes[to_eve.pk].state == "retry"
    assert "451" in outcomes[to_eve.pk].detail
    assert outcomes[to_dana.pk] == Outcome("sent")
    assert [r.rcpt_tos for r in smtp.received] == [["dana@campus.example.edu"]]


def test_smtp_down_is_retried_and_nothing_is_lost(
    settings: Any, room: ChatRoom, bob: Any, reader: Any
) -> None:
    port = free_port()  # nothing listens there: connection refused
    use_smtp(settings, port)
    deliveries = [notify(reader, say(bob, room, f"@dana news {n}")) for n in range(2)]
    outcomes = email.deliver(pending(*deliveries))
    assert {o.state for o in outcomes.values()} == {"retry"}
    assert set(outcomes) == {d.pk for d in deliveries}
    assert "ConnectionRefusedError" in outcomes[deliveries[0].pk].detail
    # The server is back: the same rows go out, all of them, in one e-mail.
    with SmtpServer(port) as server:
        assert email.deliver(pending(*deliveries)) == {d.pk: Outcome("sent") for d in deliveries}
        [received] = server.received
    body = received.message.get_body(("plain",))
    assert body is not None
    assert "news 0" in body.get_content()
    assert "news 1" in body.get_content()


# --- End to end: the notify step, the worker, the e-mail ----------------------------------

#: Past the default digest delay (NOTIFY_DIGEST_DELAY, 30 minutes).
LATER = timedelta(minutes=31)


@pytest.fixture
def send(django_capture_on_commit_callbacks: Any) -> Callable[[Any, ChatRoom, str], ChatMessage]:
    """Send as a door does: the notify step runs after the commit, writing the rows."""

    def send(user: Any, room: ChatRoom, content: str) -> ChatMessage:
        with django_capture_on_commit_callbacks(execute=True):
            return say(user, room, content)

    return send


def email_delivery(user: Any, message: ChatMessage) -> ChatNotificationDelivery:
    return ChatNotificationDelivery.objects.get(
        notification__user=user, notification__message=message, channel="email"
    )


def test_the_worker_mails_exactly_the_unread_mentions(
    room: ChatRoom, alice: Any, bob: Any, reader: Any, send: Callable[..., ChatMessage]
) -> None:
    first = send(bob, room, "@dana first unread")
    second = send(alice, room, "@dana second unread")
    read = send(bob, room, "@dana this one I read in the bell")
    noisy = services.do_create_room(alice, name="Noisy room", room_type="public")
    services.do_join_room(reader, noisy)
    muted = send(alice, noisy, "@dana muted chatter")
    # Meanwhile: one read in the notification centre, the other room muted for a day.
    services.check_mark_notifications_read(reader, [email_delivery(reader, read).notification_id])
    noisy, access = services.get_room_for(reader, noisy.slug)
    services.check_set_room_notifications(
        reader, noisy, access, level="", muted_until=now() + timedelta(days=1)
    )
    assert deliver_due(now=now() + timedelta(minutes=5)) == 0  # not due yet
    assert mail.outbox == []

    assert deliver_due(now=now() + LATER) == 4

    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["dana@campus.example.edu"]
    assert sent.subject == "2 unread messages on SmartCampus"
    for part in (sent.body, html_part(sent)):
        assert "first unread" in part
        assert "second unread" in part
        assert "in the bell" not in part
        assert "muted chatter" not in part
    states = {
        message.pk: (email_delivery(reader, message).state, email_delivery(reader, message).detail)
        for message in (first, second, read, muted)
    }
    assert states == {
        first.pk: ("sent", ""),
        second.pk: ("sent", ""),
        read.pk: ("skipped", "read"),
        muted.pk: ("skipped", "room muted"),
    }
    # Each goes once: nothing more to send.
    assert deliver_due(now=now() + 2 * LATER) == 0
    assert len(mail.outbox) == 1


def test_a_french_reader_through_the_worker(
    room: ChatRoom, bob: Any, reader: Any, send: Callable[..., ChatMessage]
) -> None:
    services.check_set_preferences(reader, language="fr", time_zone="America/Montreal")
    send(bob, room, "@dana salut")
    deliver_due(now=now() + LATER)
    [sent] = mail.outbox
    assert sent.subject == "1 message non lu sur SmartCampus"
    assert "Bob vous a mentionné" in sent.body
    assert "(EST)" in sent.body


def test_after_unsubscribing_no_digest_is_sent(
    room: ChatRoom, bob: Any, reader: Any, send: Callable[..., ChatMessage]
) -> None:
    send(bob, room, "@dana first digest")
    deliver_due(now=now() + LATER)
    [first] = mail.outbox
    waiting = send(bob, room, "@dana written before unsubscribing, due after")
    response = Client(enforce_csrf_checks=True).post(
        unsubscribe_path(first),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    after = send(bob, room, "@dana written after unsubscribing")

    deliver_due(now=now() + LATER)

    assert len(mail.outbox) == 1
    assert email_delivery(reader, waiting).state == "skipped"
    assert email_delivery(reader, waiting).detail == "turned off"
    assert not ChatNotificationDelivery.objects.filter(
        notification__message=after, channel="email"
    ).exists()
    # Still in the notification centre: only the e-mails stopped.
    assert ChatNotification.objects.filter(user=reader, message=after, read_at=None).exists()


def test_smtp_down_the_worker_retries_and_sends_when_it_is_back(
    settings: Any, room: ChatRoom, bob: Any, reader: Any, send: Callable[..., ChatMessage]
) -> None:
    port = free_port()
    use_smtp(settings, port)
    message = send(bob, room, "@dana while the mail server is down")
    deliver_due(now=now() + LATER)
    delivery = email_delivery(reader, message)
    assert delivery.state == "pending"
    assert delivery.attempts == 1
    assert "ConnectionRefusedError" in delivery.detail
    assert delivery.due_at > now()  # backing off

    with SmtpServer(port) as server:
        deliver_due(now=now() + LATER + timedelta(minutes=1))
        [received] = server.received
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == ("sent", 2)
    body = received.message.get_body(("plain",))
    assert body is not None
    assert "while the mail server is down" in body.get_content()


# --- Through django-anymail (an e-mail provider's API) -------------------------------------


@pytest.fixture
def provider(settings: Any) -> None:
    """The default mailer is an anymail backend (tests/anymail_provider.py)."""
    backend = "tests.anymail_provider.ProviderBackend"
    if hasattr(mail, "mailers"):
        settings.MAILERS = {"default": {"BACKEND": backend}}
    else:
        settings.EMAIL_BACKEND = backend


def test_through_anymail(
    provider: None,
    settings: Any,
    room: ChatRoom,
    bob: Any,
    reader: Any,
    make_user: Callable[..., Any],
) -> None:
    rejected = make_user("rej", email="rejected@campus.example.edu")
    outage = make_user("out", email="outage@campus.example.edu")
    for user in (rejected, outage):
        services.do_join_room(user, room)
    message = say(bob, room, "@dana @rej @out hello")
    to_reader, to_rejected, to_outage = (notify(u, message) for u in (reader, rejected, outage))

    outcomes = email.deliver(pending(to_reader, to_rejected, to_outage))

    assert outcomes[to_reader.pk] == Outcome("sent")
    assert outcomes[to_rejected.pk].state == "failed"
    assert "AnymailRecipientsRefused" in outcomes[to_rejected.pk].detail
    assert outcomes[to_outage.pk].state == "retry"
    assert "503" in outcomes[to_outage.pk].detail
    sent = next(m for m in mail.outbox if m.to == ["dana@campus.example.edu"])
    params = sent.anymail_test_params  # type: ignore[attr-defined]
    assert params["extra_headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert params["extra_headers"]["List-Unsubscribe"].startswith(f"<{SITE}/chat/unsubscribe/")
    assert params["subject"] == "1 unread message on SmartCampus"
    assert "hello" in params["text_body"]
    assert "hello" in params["html_body"]

    # Told to keep refused recipients quiet, anymail marks them instead of raising.
    settings.ANYMAIL = {"IGNORE_RECIPIENT_STATUS": True}
    outcome = email.deliver(pending(to_rejected))[to_rejected.pk]
    assert outcome == Outcome("failed", "refused by the e-mail provider")
