"""The typed settings object: every setting has a default and a check, read values keep
their type, and bad values are reported by the checks, never by a crash."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings

from smartcampus_chat import checks as chat_checks
from smartcampus_chat.conf import DEFAULTS, SETTINGS, ChatSettings, app_settings

DOCS = Path(__file__).resolve().parent.parent / "docs" / "settings.md"


def test_every_default_passes_its_own_check() -> None:
    assert {name: s.check(s.default) for name, s in SETTINGS.items() if s.check(s.default)} == {}
    assert {name: s.default for name, s in SETTINGS.items()} == DEFAULTS


def test_every_setting_is_documented_with_its_default() -> None:
    documented = {
        name
        for row in re.findall(r"^\| `([A-Z_]+)`(?: / `([A-Z_]+)`)? \|", DOCS.read_text(), re.M)
        for name in row
        if name
    }
    assert documented == set(DEFAULTS)


def test_values_are_read_with_their_type_and_follow_overrides() -> None:
    assert app_settings.MAX_MESSAGE_LENGTH == 4000
    with override_settings(SMARTCAMPUS_CHAT={"MAX_MESSAGE_LENGTH": 10, "EDIT_WINDOW": 1.5}):
        assert app_settings.MAX_MESSAGE_LENGTH == 10
        assert ChatSettings.MAX_MESSAGE_LENGTH.value() == 10
        assert app_settings.EDIT_WINDOW == 1.5
    assert app_settings.MAX_MESSAGE_LENGTH == 4000
    assert app_settings.EDIT_WINDOW is None


@pytest.mark.parametrize(
    ("chat_settings", "expected"),
    [
        ({"BASE_TEMPLATE": None}, "smartcampus_chat.E002"),
        ({"CHANNEL_LAYER": ["default"]}, "smartcampus_chat.E002"),
        ({"PRIVATE_AUDIT_BY_STAFF": "yes"}, "smartcampus_chat.E002"),
        ({"POLICY": 42}, "smartcampus_chat.E003"),
        ({"POLICY": None}, "smartcampus_chat.E003"),
        (
            {"COURSE_MODEL": 7, "COURSE_ROLE_RESOLVER": "courses.chat.course_role"},
            "smartcampus_chat.E004",
        ),
        ({"MAX_ROOM_NAME_LENGTH": "120"}, "smartcampus_chat.E002"),
    ],
)
def test_bad_types_are_check_errors_not_crashes(
    chat_settings: dict[str, Any], expected: str
) -> None:
    with override_settings(SMARTCAMPUS_CHAT=chat_settings):
        found = {
            message.id
            for check in (chat_checks.check_settings, chat_checks.check_channel_layers)
            for message in check()
        }
    assert expected in found
