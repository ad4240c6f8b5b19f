"""Web Push (issue #20): a real push service on 127.0.0.1 receives what the channel sends;
the test's browser decrypts it with its own keys (RFC 8291 aes128gcm) and checks the VAPID
signature (RFC 8292). The subscription API refuses what the server must never POST to."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from smartcampus_chat import queries, services
from smartcampus_chat.domain.push import is_p256_point
from smartcampus_chat.management.commands.chat_vapid_keys import make_vapid_keys
from smartcampus_chat.models import (
    ChatNotification,
    ChatNotificationDelivery,
    ChatPushSubscription,
    ChatRoom,
    DeliveryChannel,
)
from smartcampus_chat.notifications import deliver_due, webpush
from smartcampus_chat.notifications.channels import Pending
from smartcampus_chat.queries.notifications import notification_texts
from tests.http import api, logged_in
from tests.push_service import (
    Browser,
    PushService,
    b64url,
    start_push_service,
    unb64url,
    verify_vapid,
)

pytestmark = pytest.mark.django_db(transaction=True)

SUBJECT = "mailto:it@campus.example.edu"
SITE = "https://campus.example.edu"


@pytest.fixture
def push_service() -> Iterator[PushService]:
    service = start_push_service()
    try:
        yield service
    finally:
        service.server.shutdown()
        service.server.server_close()


@pytest.fixture
def vapid_keys() -> tuple[str, str]:
    return make_vapid_keys()


@pytest.fixture
def push_on(settings: Any, vapid_keys: tuple[str, str]) -> Any:
    public, private = vapid_keys
    settings.SMARTCAMPUS_CHAT = {
        **settings.SMARTCAMPUS_CHAT,
        "NOTIFY_PUSH": True,
        "NOTIFY_SITE_URL": SITE,
        "WEB_PUSH_VAPID_PUBLIC_KEY": public,
        "WEB_PUSH_VAPID_PRIVATE_KEY": private,
        "WEB_PUSH_SUBJECT": SUBJECT,
        "WEB_PUSH_ALLOWED_HOSTS": ["127.0.0.1"],
    }
    return settings


def subscribe(user: Any, browser: Browser) -> ChatPushSubscription:
    """Subscribe ``browser`` for ``user`` through the REST API, as push.js does."""
    response = logged_in(user).post(
        api("push-subscriptions"),
        browser.subscription_json(),
        content_type="application/json",
        HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0",
    )
    assert response.status_code == 201, response.content
    return ChatPushSubscription.objects.get(endpoint=browser.endpoint)


def notify(user: Any, room: ChatRoom, sender: Any, text: str, kind: str) -> Pending:
    """A message sent through the send path, and the push delivery of its notification
    loaded as the worker hands it to the channel (``kind`` when the notify step wrote
    none: these tests are about the channel, whatever the rules decide)."""
    message = services.check_send_message(sender, room, text).message
    # The notify step wrote them already when the rules say so; else as it would.
    notification, _created = ChatNotification.objects.get_or_create(
        user=user, message=message, defaults={"kind": kind, "room": room, "actor": sender}
    )
    delivery, _created = ChatNotificationDelivery.objects.get_or_create(
        notification=notification, channel=DeliveryChannel.PUSH
    )
    loaded = ChatNotificationDelivery.objects.select_related(
        "notification__message",
        "notification__room",
        "notification__actor",
        "notification__user",
    ).get(pk=delivery.pk)
    return Pending(delivery=loaded, preferences=queries.preferences_of(user))


def test_a_mention_reaches_the_browser_encrypted_and_signed(
    push_on: Any,
    push_service: PushService,
    vapid_keys: tuple[str, str],
    alice: Any,
    bob: Any,
    public_room: ChatRoom,
) -> None:
    services.do_join_room(bob, public_room)
    browser = Browser(push_service.endpoint("alice-laptop"))
    subscription = subscribe(alice, browser)
    pending = notify(alice, public_room, bob, "@alice the lab moved to room **B12**", "mention")

    outcomes = webpush.deliver([pending])

    assert outcomes == {pending.delivery.pk: webpush.Outcome("sent")}
    [received] = push_service.to("alice-laptop")
    verify_vapid(received, public_key=vapid_keys[0], origin=push_service.origin, subject=SUBJECT)
    assert received.headers["ttl"] == str(24 * 3600)
    assert received.headers["urgency"] == "high"
    shown = browser.decrypt(received)
    notification = pending.delivery.notification
    texts = notification_texts(notification, with_content=True)
    assert shown == {
        "title": texts.title,
        "body": "@Alice the lab moved to room B12",
        "url": texts.url,
        "tag": f"scc-room-{public_room.pk}",
        "notification_id": notification.pk,
    }
    assert "Bob" in shown["title"]
    assert shown["url"].startswith(f"{SITE}/chat/room/{public_room.slug}/")
    subscription.refresh_from_db()
    assert subscription.last_success_at is not None
    assert subscription.failures == 0


def test_each_browser_of_the_person_gets_it_and_nobody_else(
    push_on: Any, push_service: PushService, alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    services.do_join_room(bob, public_room)
    laptop = Browser(push_service.endpoint("alice-laptop"))
    phone = Browser(push_service.endpoint("alice-phone"))
    bobs = Browser(push_service.endpoint("bob-laptop"))
    subscribe(alice, laptop)
    subscribe(alice, phone)
    subscribe(bob, bobs)
    pending = notify(alice, public_room, bob, "hello", "message")

    assert webpush.deliver([pending])[pending.delivery.pk].state == "sent"

    assert laptop.decrypt(push_service.to("alice-laptop")[0])["body"] == "hello"
    assert phone.decrypt(push_service.to("alice-phone")[0])["body"] == "hello"
    assert push_service.to("alice-phone")[0].headers["urgency"] == "normal"
    assert push_service.to("bob-laptop") == []


def test_private_room_without_opt_in_shows_no_text_and_with_it_does(
    push_on: Any, push_service: PushService, alice: Any, bob: Any
) -> None:
    room, _created = services.do_open_private(bob, alice)
    browser = Browser(push_service.endpoint("alice"))
    subscribe(alice, browser)

    hidden = notify(alice, room, bob, "my exam grade is 17/20", "private")
    webpush.deliver([hidden])
    shown = browser.decrypt(push_service.to("alice")[0])
    assert shown["body"] == "New message"
    assert "17/20" not in json.dumps(shown)

    services.do_set_preferences(alice, push_private_content=True)
    visible = notify(alice, room, bob, "and yours?", "private")
    webpush.deliver([visible])
    assert browser.decrypt(push_service.to("alice")[1])["body"] == "and yours?"


def test_texts_are_in_the_persons_language(
    push_on: Any, push_service: PushService, alice: Any, bob: Any
) -> None:
    room, _created = services.do_open_private(bob, alice)
    services.do_set_preferences(alice, language="fr")
    browser = Browser(push_service.endpoint("alice"))
    subscribe(alice, browser)
    webpush.deliver([notify(alice, room, bob, "secret", "private")])
    assert browser.decrypt(push_service.to("alice")[0])["body"] == "Nouveau message"


def test_410_removes_the_subscription_and_404_too(
    push_on: Any, push_service: PushService, alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    services.do_join_room(bob, public_room)
    gone = Browser(push_service.endpoint("gone"))
    missing = Browser(push_service.endpoint("missing"))
    kept = Browser(push_service.endpoint("kept"))
    for browser in (gone, missing, kept):
        subscribe(alice, browser)
    push_service.answer("gone", 410)
    push_service.answer("missing", 404)
    first = notify(alice, public_room, bob, "one", "mention")
    second = notify(alice, public_room, bob, "two", "mention")

    outcomes = webpush.deliver([first, second])

    assert {o.state for o in outcomes.values()} == {"sent"}
    assert list(ChatPushSubscription.objects.values_list("endpoint", flat=True)) == [kept.endpoint]
    # Each expired endpoint was posted to once, not again for the batch's second delivery.
    assert len(push_service.to("gone")) == 1
    assert len(push_service.to("missing")) == 1
    assert len(push_service.to("kept")) == 2

    push_service.answer("kept", 410)
    third = notify(alice, public_room, bob, "three", "mention")
    assert webpush.deliver([third])[third.delivery.pk].state == "skipped"
    assert not ChatPushSubscription.objects.exists()


@pytest.mark.parametrize("status", [500, 503, 429])
def test_a_busy_or_failing_push_service_is_retried_later(
    push_on: Any,
    push_service: PushService,
    alice: Any,
    bob: Any,
    public_room: ChatRoom,
    status: int,
) -> None:
    services.do_join_room(bob, public_room)
    subscription = subscribe(alice, Browser(push_service.endpoint("alice")))
    push_service.answer("alice", status)
    pending = notify(alice, public_room, bob, "hello", "mention")

    outcome = webpush.deliver([pending])[pending.delivery.pk]

    assert outcome.state == "retry"
    assert str(status) in outcome.detail
    subscription.refresh_from_db()
    assert subscription.failures == 1


def test_an_unreachable_push_service_is_retried_and_a_refusal_fails(
    push_on: Any, push_service: PushService, alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    services.do_join_room(bob, public_room)
    browser = Browser(push_service.endpoint("alice"))
    subscribe(alice, browser)
    push_service.server.shutdown()
    push_service.server.server_close()
    pending = notify(alice, public_room, bob, "hello", "mention")
    outcome = webpush.deliver([pending])[pending.delivery.pk]
    assert outcome.state == "retry"
    assert "unreachable" in outcome.detail


def test_a_refusal_fails_and_a_redirect_is_not_followed(
    push_on: Any, push_service: PushService, alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    services.do_join_room(bob, public_room)
    subscribe(alice, Browser(push_service.endpoint("refused")))
    push_service.answer("refused", 403)
    pending = notify(alice, public_room, bob, "hello", "mention")
    assert webpush.deliver([pending])[pending.delivery.pk] == webpush.Outcome(
        "failed", "push service answered 403"
    )

    ChatPushSubscription.objects.all().delete()
    subscribe(alice, Browser(push_service.endpoint("moved")))
    push_service.answer("moved", 307, location=push_service.endpoint("elsewhere"))
    pending = notify(alice, public_room, bob, "again", "mention")
    assert webpush.deliver([pending])[pending.delivery.pk] == webpush.Outcome(
        "failed", "push service redirected"
    )
    assert push_service.to("elsewhere") == []


def test_people_are_served_in_parallel_and_a_round_stops_in_time(
    push_on: Any,
    push_service: PushService,
    alice: Any,
    bob: Any,
    make_user: Any,
    public_room: ChatRoom,
) -> None:
    """Half the lease (here 2 s of 4) for a round's POSTs: two people whose push service
    takes 1.2 s each get both their messages (served side by side: one after the other,
    the second person's would start too late); a third message of alice's would start
    after the budget and is left for the next round, unsent."""
    push_on.SMARTCAMPUS_CHAT = {**push_on.SMARTCAMPUS_CHAT, "NOTIFY_LEASE": 4}
    carol = make_user("carol")
    for person in (bob, carol):
        services.do_join_room(person, public_room)
    subscribe(alice, Browser(push_service.endpoint("alice")))
    subscribe(carol, Browser(push_service.endpoint("carol")))
    push_service.answer("alice", delay=1.2)
    push_service.answer("carol", delay=1.2)
    for_alice = [notify(alice, public_room, bob, f"alice {i}", "mention") for i in range(3)]
    for_carol = [notify(carol, public_room, bob, f"carol {i}", "mention") for i in range(2)]

    outcomes = webpush.deliver([*for_alice, *for_carol])

    assert [outcomes[p.delivery.pk].state for p in for_alice] == ["sent", "sent", "retry"]
    assert [outcomes[p.delivery.pk].state for p in for_carol] == ["sent", "sent"]
    assert len(push_service.to("alice")) == 2


def test_no_subscription_is_skipped_and_a_host_no_longer_allowed_is_not_posted_to(
    push_on: Any, push_service: PushService, alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    services.do_join_room(bob, public_room)
    pending = notify(alice, public_room, bob, "hello", "mention")
    assert webpush.deliver([pending]) == {
        pending.delivery.pk: webpush.Outcome("skipped", "no subscription")
    }

    subscribe(alice, Browser(push_service.endpoint("alice")))
    push_on.SMARTCAMPUS_CHAT = {
        **push_on.SMARTCAMPUS_CHAT,
        "WEB_PUSH_ALLOWED_HOSTS": ["fcm.googleapis.com"],
    }
    pending = notify(alice, public_room, bob, "again", "mention")
    outcome = webpush.deliver([pending])[pending.delivery.pk]
    assert outcome.state == "failed"
    assert "endpoint refused" in outcome.detail
    assert push_service.received == []


def test_vapid_keys_command_prints_a_working_pair() -> None:
    out = StringIO()
    call_command("chat_vapid_keys", stdout=out)
    found = dict(
        line.strip().rstrip(",").replace('"', "").split(": ")
        for line in out.getvalue().splitlines()
        if line.startswith('"')
    )
    public = found["WEB_PUSH_VAPID_PUBLIC_KEY"]
    private = found["WEB_PUSH_VAPID_PRIVATE_KEY"]
    assert is_p256_point(unb64url(public))
    assert len(unb64url(private)) == 32
    # The private key is the public key's: it signs what the public key verifies.
    signer = webpush._vapid(private)
    headers = signer.sign({"sub": SUBJECT, "aud": "https://fcm.googleapis.com"})
    assert headers["Authorization"].endswith(f",k={public}")
    assert make_vapid_keys() != make_vapid_keys()


# --- the subscription API ---------------------------------------------------------------


def test_push_config_gives_the_public_key_when_push_is_on(
    push_on: Any, vapid_keys: tuple[str, str], alice: Any
) -> None:
    response = logged_in(alice).get(api("push"))
    assert response.json() == {"enabled": True, "public_key": vapid_keys[0]}


def test_push_config_says_off_and_subscribing_is_refused_when_push_is_off(
    alice: Any, push_service: PushService
) -> None:
    client = logged_in(alice)
    assert client.get(api("push")).json() == {"enabled": False, "public_key": None}
    response = client.post(
        api("push-subscriptions"),
        Browser(push_service.endpoint("x")).subscription_json(),
        content_type="application/json",
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "push_unavailable"


def test_subscribing_again_updates_and_another_person_takes_the_browser_over(
    push_on: Any, push_service: PushService, alice: Any, bob: Any
) -> None:
    browser = Browser(push_service.endpoint("shared"))
    first = subscribe(alice, browser)
    browser.auth_secret = b"0123456789abcdef"
    again = subscribe(alice, browser)
    assert again.pk == first.pk
    assert again.auth == browser.auth
    assert again.user_agent.startswith("Mozilla/5.0")
    taken = subscribe(bob, browser)
    assert taken.pk == first.pk
    assert taken.user_id == bob.pk
    assert ChatPushSubscription.objects.count() == 1


def test_a_person_keeps_their_newest_browsers_only(
    push_on: Any, push_service: PushService, alice: Any
) -> None:
    browsers = [Browser(push_service.endpoint(f"b{i}")) for i in range(21)]
    for browser in browsers:
        subscribe(alice, browser)
    kept = set(ChatPushSubscription.objects.values_list("endpoint", flat=True))
    assert len(kept) == 20
    assert browsers[0].endpoint not in kept
    assert browsers[-1].endpoint in kept


def test_unsubscribe_removes_only_my_subscription(
    push_on: Any, push_service: PushService, alice: Any, bob: Any
) -> None:
    mine = Browser(push_service.endpoint("alice"))
    subscribe(alice, mine)
    subscribe(bob, Browser(push_service.endpoint("bob")))
    response = logged_in(bob).delete(
        api("push-subscriptions"), {"endpoint": mine.endpoint}, content_type="application/json"
    )
    assert response.status_code == 204
    assert ChatPushSubscription.objects.count() == 2
    response = logged_in(alice).delete(
        api("push-subscriptions"), {"endpoint": mine.endpoint}, content_type="application/json"
    )
    assert response.status_code == 204
    assert list(ChatPushSubscription.objects.values_list("user", flat=True)) == [bob.pk]


REFUSED = "push_endpoint_not_allowed"


def _bad(browser: Browser, **changes: Any) -> dict[str, Any]:
    body = browser.subscription_json()
    keys = {**body["keys"], **changes.pop("keys", {})}
    return {**body, **changes, "keys": keys}


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        (
            {"endpoint": "http://fcm.googleapis.com/fcm/send/abc"},
            "push_endpoint_not_allowed",
            "endpoint",
        ),
        (
            {"endpoint": "https://169.254.169.254/latest/meta-data"},
            "push_endpoint_not_allowed",
            "endpoint",
        ),
        (
            {"endpoint": "https://intranet.campus.example/push"},
            "push_endpoint_not_allowed",
            "endpoint",
        ),
        (
            {"endpoint": "https://fcm.googleapis.com.evil.example/x"},
            "push_endpoint_not_allowed",
            "endpoint",
        ),
        (
            {"endpoint": "https://fcm.googleapis.com:8443/fcm/send/x"},
            "push_endpoint_not_allowed",
            "endpoint",
        ),
        (
            {"endpoint": "https://user:pw@fcm.googleapis.com/fcm/send/x"},
            "push_endpoint_not_allowed",
            "endpoint",
        ),
        ({"endpoint": "file:///etc/passwd"}, REFUSED, "endpoint"),
        ({"endpoint": "http://localhost:8000/admin/"}, REFUSED, "endpoint"),
        ({"keys": {"p256dh": "not base64!"}}, "invalid_push_keys", "keys.p256dh"),
        # 65 bytes starting with 4, but not a point of the curve.
        ({"keys": {"p256dh": "BA" + "A" * 85}}, "invalid_push_keys", "keys.p256dh"),
        ({"keys": {"auth": "c2hvcnQ"}}, "invalid_push_keys", "keys.auth"),
        ({"keys": {"p256dh": ""}}, "invalid", "keys.p256dh"),
        ({"endpoint": "https://fcm.googleapis.com/" + "x" * 2100}, "invalid", "endpoint"),
    ],
)
def test_subscriptions_the_server_must_not_post_to_are_refused(
    settings: Any,
    vapid_keys: tuple[str, str],
    alice: Any,
    change: dict[str, Any],
    code: str,
    field: str,
) -> None:
    public, private = vapid_keys
    settings.SMARTCAMPUS_CHAT = {
        **settings.SMARTCAMPUS_CHAT,
        "NOTIFY_PUSH": True,
        "WEB_PUSH_VAPID_PUBLIC_KEY": public,
        "WEB_PUSH_VAPID_PRIVATE_KEY": private,
        "WEB_PUSH_SUBJECT": SUBJECT,
    }
    browser = Browser("https://fcm.googleapis.com/fcm/send/abc:def")
    response = logged_in(alice).post(
        api("push-subscriptions"), _bad(browser, **change), content_type="application/json"
    )
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == code
    assert field in error["fields"]
    assert not ChatPushSubscription.objects.exists()
    # The default allow-list takes the real push services, https only.
    ok = logged_in(alice).post(
        api("push-subscriptions"), browser.subscription_json(), content_type="application/json"
    )
    assert ok.status_code == 201


def test_the_subscription_api_needs_a_login(push_on: Any, push_service: PushService) -> None:
    response = Client().post(
        api("push-subscriptions"),
        Browser(push_service.endpoint("x")).subscription_json(),
        content_type="application/json",
    )
    assert response.status_code in (401, 403)
    assert not ChatPushSubscription.objects.exists()


# --- the browser side: service worker, page config, admin -------------------------------


def test_the_service_worker_is_served_at_the_chat_prefix(client: Client) -> None:
    response = client.get("/chat/service-worker.js")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    assert response["Cache-Control"] == "no-cache"
    assert response["Content-Security-Policy"] == "default-src 'none'"
    script = response.content.decode()
    assert 'addEventListener("push"' in script
    assert 'addEventListener("notificationclick"' in script
    assert client.post("/chat/service-worker.js").status_code == 405


def _config(user: Any) -> dict[str, Any]:
    html = logged_in(user).get("/chat/").content.decode()
    found = re.search(r'<script id="scc-config" type="application/json">(.*?)</script>', html, re.S)
    assert found
    config: dict[str, Any] = json.loads(found.group(1))
    return config


def test_the_page_config_gives_push_js_what_it_needs_only_when_push_is_on(
    settings: Any, vapid_keys: tuple[str, str], alice: Any
) -> None:
    off = _config(alice)
    assert (off["pushEnabled"], off["pushPublicKey"], off["serviceWorkerUrl"]) == (
        False,
        None,
        None,
    )
    settings.SMARTCAMPUS_CHAT = {
        **settings.SMARTCAMPUS_CHAT,
        "NOTIFY_PUSH": True,
        "WEB_PUSH_VAPID_PUBLIC_KEY": vapid_keys[0],
        "WEB_PUSH_VAPID_PRIVATE_KEY": vapid_keys[1],
        "WEB_PUSH_SUBJECT": SUBJECT,
    }
    on = _config(alice)
    assert on["pushEnabled"] is True
    assert on["pushPublicKey"] == vapid_keys[0]
    assert on["pushSubscriptionsUrl"] == "/chat/api/push/subscriptions/"
    assert on["serviceWorkerUrl"] == "/chat/service-worker.js"
    assert on["i18n"]["pushToggle"]


def test_the_admin_lists_subscriptions_without_their_keys(
    push_on: Any, push_service: PushService, alice: Any, admin_client: Client
) -> None:
    browser = Browser(push_service.endpoint("alice-" + "t" * 100))
    subscribe(alice, browser)
    page = admin_client.get("/admin/smartcampus_chat/chatpushsubscription/", {"q": "alice"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "alice" in html
    assert "Firefox/140.0" in html
    subscription = ChatPushSubscription.objects.get()
    detail = admin_client.get(
        f"/admin/smartcampus_chat/chatpushsubscription/{subscription.pk}/change/"
    ).content.decode()
    assert browser.endpoint[:60] in detail
    assert browser.endpoint not in detail
    assert browser.auth not in detail
    assert browser.p256dh not in detail
    response = admin_client.post(
        "/admin/smartcampus_chat/chatpushsubscription/",
        {"action": "delete_selected", "_selected_action": [subscription.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert not ChatPushSubscription.objects.exists()


def test_checks_warn_of_a_loopback_push_service_in_production_and_a_bad_contact(
    settings: Any,
) -> None:
    from smartcampus_chat import checks

    settings.DEBUG = False
    settings.SMARTCAMPUS_CHAT = {**settings.SMARTCAMPUS_CHAT, "WEB_PUSH_ALLOWED_HOSTS": ["::1"]}
    assert [m.id for m in checks.check_web_push()] == ["smartcampus_chat.W090"]
    settings.DEBUG = True
    assert checks.check_web_push() == []
    settings.SMARTCAMPUS_CHAT = {
        **settings.SMARTCAMPUS_CHAT,
        "WEB_PUSH_SUBJECT": "it@campus.example.edu",
    }
    assert [m.id for m in checks.check_web_push()] == ["smartcampus_chat.W091"]


def test_a_bad_contact_fails_the_batch_before_anything_is_posted(
    push_on: Any, push_service: PushService, alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    push_on.SMARTCAMPUS_CHAT = {
        **push_on.SMARTCAMPUS_CHAT,
        "WEB_PUSH_SUBJECT": "it@campus.example.edu",
    }
    services.do_join_room(bob, public_room)
    subscribe(alice, Browser(push_service.endpoint("alice")))
    pending = notify(alice, public_room, bob, "hello", "mention")
    assert webpush.deliver([pending]) == {
        pending.delivery.pk: webpush.Outcome("failed", "bad WEB_PUSH_SUBJECT")
    }
    assert push_service.received == []


def test_a_mention_goes_through_the_worker_to_the_browser(
    push_on: Any, push_service: PushService, alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    """End to end: bob's message over the real send path, the notify step, the worker
    (notifications.deliver_due), this channel, the push service, alice's browser."""
    services.do_join_room(bob, public_room)
    browser = Browser(push_service.endpoint("alice"))
    subscribe(alice, browser)

    services.check_send_message(bob, public_room, "@alice are you coming?")
    assert push_service.received == []  # Nothing is sent on the sender's path.
    handled = deliver_due()

    assert handled == 1
    [received] = push_service.to("alice")
    shown = browser.decrypt(received)
    assert shown["body"] == "@Alice are you coming?"
    assert "Bob" in shown["title"]
    delivery = ChatNotificationDelivery.objects.get()
    assert (delivery.channel, delivery.state) == ("push", "sent")
    assert shown["notification_id"] == delivery.notification_id
    assert received.headers["urgency"] == "high"
    # Sent once: another round finds nothing due.
    assert deliver_due() == 0
    assert len(push_service.to("alice")) == 1


def test_a_pem_private_key_signs_as_well(
    push_on: Any, push_service: PushService, alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = b64url(
        key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    )
    push_on.SMARTCAMPUS_CHAT = {
        **push_on.SMARTCAMPUS_CHAT,
        "WEB_PUSH_VAPID_PUBLIC_KEY": public,
        "WEB_PUSH_VAPID_PRIVATE_KEY": pem,
    }
    services.do_join_room(bob, public_room)
    subscribe(alice, Browser(push_service.endpoint("alice")))
    pending = notify(alice, public_room, bob, "hello", "mention")
    assert webpush.deliver([pending])[pending.delivery.pk].state == "sent"
    [received] = push_service.to("alice")
    verify_vapid(received, public_key=public, origin=push_service.origin, subject=SUBJECT)


@pytest.mark.parametrize(
    ("endpoint", "allowed"),
    [
        ("https://fcm.googleapis.com/fcm/send/abc", True),
        ("https://FCM.googleapis.com./wp/abc", True),
        ("https://updates.push.services.mozilla.com/wpush/v2/gAAA", True),
        ("https://wns2-par02p.notify.windows.com/w/?token=BQYAAA", True),
        ("https://web.push.apple.com/QGx", True),
        ("https://fcm.googleapis.com:443/fcm/send/abc", True),
        ("https://notify.windows.com/w/", False),
        ("https://notify.windows.com.evil.example/w/", False),
        ("https://evilfcm.googleapis.com/x", False),
        ("https://fcm.googleapis.com@127.0.0.1/x", False),
        ("https://127.0.0.1/x", False),
        ("http://[::1]:8080/push", False),
        ("https://fcm.googleapis.com/\u00e9", False),
        ("https://fcm.googleapis.com:99999/x", False),
        ("", False),
    ],
)
def test_the_endpoint_rule(endpoint: str, allowed: bool) -> None:
    from smartcampus_chat.domain.push import EndpointRefused, check_endpoint

    try:
        check_endpoint(endpoint)
    except EndpointRefused:
        assert not allowed
    else:
        assert allowed


def test_a_loopback_entry_allows_http_on_that_address_only() -> None:
    from smartcampus_chat.domain.push import EndpointRefused, check_endpoint

    hosts = ["::1", "fcm.googleapis.com"]
    assert check_endpoint("http://[::1]:8080/push", hosts)
    for refused in ("http://127.0.0.1:8080/push", "http://fcm.googleapis.com/x"):
        with pytest.raises(EndpointRefused):
            check_endpoint(refused, hosts)
