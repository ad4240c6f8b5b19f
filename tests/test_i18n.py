"""Translations: pages follow the request language; the catalogues are complete and compiled."""

from __future__ import annotations

import gettext
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from smartcampus_chat import services
from smartcampus_chat.models import ChatRoom

ROOT = Path(__file__).resolve().parent.parent
CATALOGUES = [
    ROOT / "src/smartcampus_chat/locale/fr/LC_MESSAGES/django.po",
    ROOT / "example_project/campus/locale/fr/LC_MESSAGES/django.po",
]
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]")


def parse_po(path: Path) -> list[dict[str, Any]]:
    """Entries of a .po file: msgid, msgid_plural, msgstr (list), flags. Enough for checks."""
    entries: list[dict[str, Any]] = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        entry: dict[str, Any] = {"flags": "", "msgstr": []}
        key = None
        for line in block.splitlines():
            if line.startswith("#,"):
                entry["flags"] += line
            elif line.startswith("#"):
                continue
            elif line.startswith('"') and key is not None:
                text = line[1:-1]
                if key == "msgstr":
                    entry["msgstr"][-1] += text
                else:
                    entry[key] += text
            else:
                key, _, value = line.partition(" ")
                if key.startswith("msgstr"):
                    entry["msgstr"].append(value[1:-1])
                    key = "msgstr"
                else:
                    entry[key] = value[1:-1]
        if "msgid" in entry:
            entries.append(entry)
    return entries


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: p.parts[-5])
def test_french_catalogue_is_complete_and_keeps_placeholders(path: Path) -> None:
    entries = [e for e in parse_po(path) if e["msgid"]]
    assert len(entries) > 10
    for entry in entries:
        assert "fuzzy" not in entry["flags"], entry["msgid"]
        assert all(entry["msgstr"]), f"untranslated: {entry['msgid']!r}"
        expected = sorted(PLACEHOLDER.findall(entry["msgid"]))
        for translation in entry["msgstr"]:
            assert sorted(PLACEHOLDER.findall(translation)) == expected, entry["msgid"]
    plural = [e for e in entries if "msgid_plural" in e]
    assert all(len(e["msgstr"]) == 2 for e in plural)


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="needs gettext's msgfmt")
@pytest.mark.parametrize(
    "path",
    [*CATALOGUES, *(p.parent.parent.parent / "en/LC_MESSAGES/django.po" for p in CATALOGUES)],
    ids=str,
)
def test_compiled_catalogue_matches_its_source(path: Path, tmp_path: Path) -> None:
    compiled = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check-format", "-o", str(compiled), str(path)], check=True)
    with compiled.open("rb") as fresh, path.with_suffix(".mo").open("rb") as shipped:
        expected = gettext.GNUTranslations(fresh)._catalog  # type: ignore[attr-defined]
        actual = gettext.GNUTranslations(shipped)._catalog  # type: ignore[attr-defined]
    assert actual == expected, "run compilemessages and commit the .mo"


@pytest.mark.django_db
def test_pages_follow_the_request_language(
    client: Client, alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    client.force_login(alice)
    services.do_send_message(bob, public_room, "bonjour")
    deleted = services.do_send_message(bob, public_room, "oops").message
    services.do_delete_message(bob, deleted)
    french = {"HTTP_ACCEPT_LANGUAGE": "fr"}
    html = client.get(reverse("smartcampus_chat:room_list"), **french).content.decode()
    assert '<html lang="fr"' in html
    assert "Choisissez un salon" in html
    assert "Créer un salon" in html
    html = client.get(public_room.get_absolute_url(), **french).content.decode()
    assert "Message supprimé" in html
    assert "Participants" in html
    assert "2 membres" in html
    config = html.split('id="scc-config" type="application/json">')[1].split("</script>")[0]
    strings = json.loads(config)["i18n"]
    assert strings["typing_one"] == "%(name)s est en train d\u2019écrire…"
    assert "Public" in html
    english = client.get(public_room.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")
    assert "Message deleted" in english.content.decode()


@pytest.mark.django_db
@pytest.mark.usefixtures("group")
def test_service_errors_and_form_labels_are_translated(client: Client, staff: Any) -> None:
    client.force_login(staff)  # offered group rooms
    response = client.post(
        reverse("smartcampus_chat:room_create"),
        {"name": "Robots", "room_type": "group"},
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "Un salon de groupe a besoin d\u2019un groupe." in html
    assert "Nom" in html
    assert "Groupe" in html


@pytest.mark.django_db
def test_example_site_is_translated(client: Client) -> None:
    html = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Bienvenue sur SmartCampus" in html
    assert "Salons publics" in html


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="needs gettext (xgettext)")
def test_french_catalogue_covers_every_translatable_string_in_the_source(tmp_path: Path) -> None:
    """Re-extract the strings from a copy of the source: none may be missing from the catalogue."""
    package = tmp_path / "smartcampus_chat"
    shutil.copytree(ROOT / "src/smartcampus_chat", package, ignore=shutil.ignore_patterns("*.mo"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "example_project")]),
    }
    subprocess.run(
        [sys.executable, "-m", "django", "makemessages", "-l", "fr", "--no-obsolete"],
        cwd=package,
        env=env,
        check=True,
        capture_output=True,
    )
    extracted = {e["msgid"] for e in parse_po(package / "locale/fr/LC_MESSAGES/django.po")}
    committed = {
        e["msgid"]: e
        for e in parse_po(CATALOGUES[0])
        if "fuzzy" not in e["flags"] and all(e["msgstr"])
    }
    missing = sorted(msgid for msgid in extracted - set(committed) if msgid)
    assert missing == []
