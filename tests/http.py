"""HTTP helpers of the tests: a logged-in Django test client and the API's URLs by name."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse


def logged_in(user: Any) -> Client:
    """A test client with ``user`` logged in (a session cookie, as a browser has)."""
    client = Client()
    client.force_login(user)
    return client


def api(name: str, **kwargs: Any) -> str:
    """The URL of the REST API's route ``api-<name>``."""
    return reverse(f"smartcampus_chat:api-{name}", kwargs=kwargs or None)
