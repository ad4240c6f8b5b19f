from __future__ import annotations

import io
from importlib import resources

import pytest
from django.core.management import call_command

import smartcampus_chat


def test_package_imports_with_a_version() -> None:
    assert smartcampus_chat.__version__
    assert resources.files("smartcampus_chat").joinpath("py.typed").is_file()


@pytest.mark.django_db
def test_migrations_are_complete() -> None:
    out = io.StringIO()
    call_command(
        "makemigrations", "smartcampus_chat", "courses", check=True, dry_run=True, stdout=out
    )
    assert "No changes detected" in out.getvalue()


@pytest.mark.parametrize("language", ["en", "fr"])
def test_compiled_translations_are_shipped(language: str) -> None:
    locale = resources.files("smartcampus_chat").joinpath("locale", language, "LC_MESSAGES")
    assert locale.joinpath("django.po").is_file()
    assert locale.joinpath("django.mo").is_file()
