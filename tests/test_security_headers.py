"""Security headers on chat pages, their settings and checks, and ``check --deploy``."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse

from smartcampus_chat import checks
from smartcampus_chat.models import ChatRoom
from smartcampus_chat.web.security import security_headers

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
NONCE = re.compile(r"'nonce-([A-Za-z0-9_-]{16,})'")


def _pages(room: ChatRoom) -> list[str]:
    return [
        reverse("smartcampus_chat:room_list"),
        room.get_absolute_url(),
        reverse("smartcampus_chat:room_create"),
        reverse("smartcampus_chat:people"),
        reverse("smartcampus_chat:room_settings", args=[room.slug]),
    ]


def _directives(policy: str) -> dict[str, list[str]]:
    return {p.split()[0]: p.split()[1:] for p in policy.split(";") if p.split()}


def test_chat_pages_send_the_security_headers(
    client: Client, alice: Any, public_room: ChatRoom
) -> None:
    client.force_login(alice)
    nonces = set()
    for url in _pages(public_room):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"
        assert response["X-Frame-Options"] == "DENY"
        policy = _directives(response["Content-Security-Policy"])
        assert policy["frame-ancestors"] == ["'none'"]
        # The page's own origin only ('self' covers its ws:/wss: in CSP3): no socket to
        # any other host, which bare ws: wss: allowed.
        assert policy["connect-src"] == ["'self'"]
        assert "'unsafe-inline'" not in policy["script-src"]
        (nonce,) = NONCE.findall(" ".join(policy["script-src"]))
        nonces.add(nonce)
        # The policy can hold: the pages' scripts are files, none inline.
        html = response.content.decode()
        for tag in re.findall(r"<script\b[^>]*>", html):
            # Data blocks (type="application/json") are not scripts: CSP ignores them.
            assert "src=" in tag or "application/json" in tag or f'nonce="{nonce}"' in tag, tag
        assert not re.search(r"\son[a-z]+\s*=", html), "inline event handler"
    assert len(nonces) == len(_pages(public_room)), "a nonce per response"


def test_the_host_policy_wins_and_its_nonce_is_used() -> None:
    @security_headers
    def view(request: HttpRequest) -> HttpResponse:
        response = HttpResponse(f"nonce={request.csp_nonce}")  # type: ignore[attr-defined]
        response["Content-Security-Policy"] = "default-src 'none'"
        return response

    request = RequestFactory().get("/")
    request.csp_nonce = "host-made-nonce"  # type: ignore[attr-defined]
    response = view(request)
    assert response["Content-Security-Policy"] == "default-src 'none'"
    assert response.content == b"nonce=host-made-nonce"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_headers_can_be_configured_or_turned_off(client: Client, alice: Any, settings: Any) -> None:
    client.force_login(alice)
    url = reverse("smartcampus_chat:room_list")
    settings.SMARTCAMPUS_CHAT = {
        **settings.SMARTCAMPUS_CHAT,
        "CONTENT_SECURITY_POLICY": "default-src 'self' 'nonce-{nonce}'; frame-ancestors 'self'",
        "REFERRER_POLICY": None,
    }
    response = client.get(url)
    assert NONCE.search(response["Content-Security-Policy"])
    assert "Referrer-Policy" not in response
    settings.SMARTCAMPUS_CHAT = {**settings.SMARTCAMPUS_CHAT, "SECURITY_HEADERS": False}
    response = client.get(url)
    assert "Content-Security-Policy" not in response
    assert "X-Content-Type-Options" not in response


@pytest.mark.parametrize(
    ("values", "ids"),
    [
        ({}, set()),
        ({"SECURITY_HEADERS": "yes"}, {"smartcampus_chat.E040"}),
        ({"CONTENT_SECURITY_POLICY": ["default-src"]}, {"smartcampus_chat.E040"}),
        ({"CONTENT_SECURITY_POLICY": None}, set()),
        (
            {"CONTENT_SECURITY_POLICY": "default-src 'self'; connect-src https://api.example"},
            {"smartcampus_chat.W041", "smartcampus_chat.W042"},
        ),
        (
            {"CONTENT_SECURITY_POLICY": "default-src 'none'; frame-ancestors 'none'"},
            {"smartcampus_chat.W041"},
        ),
    ],
)
def test_header_settings_are_checked(values: dict[str, Any], ids: set[str]) -> None:
    with override_settings(SMARTCAMPUS_CHAT=values):
        assert {m.id for m in checks.check_security_headers()} == ids


@pytest.mark.slow
def test_check_deploy_is_clean_for_the_example_production_settings() -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "campus.settings",
        "DEBUG": "0",
        "SECRET_KEY": "x" * 20 + "-a-long-random-production-key-with-entropy-0123456789",
        "ALLOWED_HOSTS": "campus.example.edu",
        "REDIS_URL": "redis://127.0.0.1:6379/9",  # Not contacted by the checks.
    }
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT / "example_project",
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
