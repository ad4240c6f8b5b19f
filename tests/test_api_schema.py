"""The OpenAPI document: valid, warning-free, complete; and the API keeps to it (schemathesis)."""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.contrib.auth import get_user_model
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema
from hypothesis import HealthCheck, assume, settings
from openapi_spec_validator import validate as validate_openapi
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

User = get_user_model()
SCHEMA_URL = "/chat/api/schema/?format=json"
#: Examples per operation; bounded so that the suite stays fast (raise it with the variable).
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "25"))


def fetch_schema() -> dict[str, Any]:
    response = Client().get(SCHEMA_URL)
    assert response.status_code == 200
    return dict(json.loads(response.content))


@pytest.mark.django_db
def test_schema_is_valid_openapi_and_generated_without_warnings() -> None:
    GENERATOR_STATS.reset()
    schema = fetch_schema()
    assert not GENERATOR_STATS, "drf-spectacular reported warnings or errors"
    # The whole site's schema too, as drf-spectacular's own check (``check --deploy``)
    # builds it: it warns of two serializers sharing a component name, the chat's view not.
    SchemaGenerator().get_schema(request=None, public=True)
    assert not GENERATOR_STATS, "drf-spectacular reported warnings or errors (whole site)"
    validate_schema(schema)
    validate_openapi(schema)
    assert schema["info"]["title"] == "smartcampus-chat API"


@pytest.mark.django_db
def test_schema_documents_only_the_chat_api_with_bodies_and_errors() -> None:
    schema = fetch_schema()
    assert all(path.startswith("/chat/api/") for path in schema["paths"])
    assert "/chat/api/schema/" not in schema["paths"]
    error_ref = "#/components/schemas/Error"
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            name = f"{method.upper()} {path}"
            assert operation.get("summary"), name
            responses = operation["responses"]
            assert any(code.startswith("2") for code in responses), name
            for code in ("400", "401", "403", "429"):
                body = responses[code]["content"]["application/json"]["schema"]
                assert body == {"$ref": error_ref}, name
            if "{" in path:
                assert "404" in responses, name
            if method in ("post", "patch") and not path.endswith(
                (
                    "/join/",
                    "/leave/",
                    "/ws-ticket/",
                    "/pin/",
                    "/ack/",
                    "/exports/",
                    "/vote/",
                    "/resolve/",
                    "/endorse/",
                    "/poll/close/",
                )
            ):
                body_types = operation["requestBody"]["content"]
                if path.endswith("/attachments/"):  # An upload: one file, multipart.
                    assert list(body_types) == ["multipart/form-data"], name
                else:
                    assert "application/json" in body_types, name
    assert "cookieAuth" in schema["components"]["securitySchemes"]
    assert "tokenAuth" in schema["components"]["securitySchemes"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "asset"),
    [
        ("/chat/api/docs/", "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"),
        ("/chat/api/redoc/", "/static/drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js"),
    ],
)
def test_docs_pages_load_their_assets_locally(path: str, asset: str) -> None:
    page = Client().get(path)
    assert page.status_code == 200
    html = page.content.decode()
    assert asset in html
    assert "cdn" not in html.lower()
    assert "fonts.googleapis" not in html
    # No inline script or style (the chat's CSP allows neither): Swagger's start-up script
    # is a same-origin request of its own, Redoc's a static file.
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert "<style" not in html
    assert "nonce-" in page["Content-Security-Policy"]
    if "?script=" in html:
        html = Client().get(path, {"script": ""}).content.decode()
    assert "/chat/api/schema/" in html


# --- contract tests -----------------------------------------------------------------------


@pytest.fixture
def in_test_transaction() -> Iterator[None]:
    """Run WSGI requests inside the test's transaction.

    As Django's test client does, keep the request signals from closing the connection that
    holds the test transaction.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def alice_token(db: Any, in_test_transaction: None) -> str:
    """Demo data (``seed_demo``) and the API token of its user alice."""
    call_command("seed_demo", stdout=io.StringIO())
    return str(Token.objects.create(user=User.objects.get(username="alice")).key)


# Loaded once, in-process through Django's WSGI application (the schema needs no database).
# (``schemathesis.pytest.from_fixture`` would load it per test, but its lazy loader does not
# work with pytest 9.)
schema = schemathesis.openapi.from_wsgi(
    SCHEMA_URL,
    WSGIHandler(),
    config=SchemathesisConfig.from_dict(
        {
            "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True},
            # A real room of the demo data, so that requests get past the 404 of a random slug.
            "parameters": {"path.slug": "general", "path.room_slug": "general"},
        }
    ),
)


@pytest.mark.slow
@schema.parametrize()
# The demo data is made once per operation and shared by its examples, on purpose.
@settings(
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much],
    deadline=None,
)
def test_api_keeps_to_its_schema(case: Any, alice_token: str) -> None:
    # The WSGI transport cannot encode a multipart body that is not an object (werkzeug's
    # form builder fails on ``True``): such examples never reach the API, so skip them.
    assume(case.media_type != "multipart/form-data" or isinstance(case.body, dict))
    case.call_and_validate(
        headers={"Authorization": f"Token {alice_token}"},
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )


@pytest.mark.django_db
def test_docs_pages_answer_404_without_their_apps() -> None:
    from django.conf import settings
    from django.test import override_settings

    installed = [app for app in settings.INSTALLED_APPS if app != "drf_spectacular_sidecar"]
    with override_settings(INSTALLED_APPS=installed):
        assert Client().get("/chat/api/docs/").status_code == 404
        assert Client().get("/chat/api/schema/").status_code == 200
