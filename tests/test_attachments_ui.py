"""Attachments as the pages show them (docs/frontend.md, "Attachments"): one size rule for
the server and the client, a message's files rendered by the server, the composer's file
field and configuration, and a room's files page (its queries, its filter, its access)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from smartcampus_chat.domain.file_labels import FILE_TYPES, file_size, file_type
from smartcampus_chat.models import ChatRoom
from smartcampus_chat.web.page_config import attachment_config, client_config, client_strings
from tests import attachment_files as files
from tests.http import logged_in
from tests.test_attachments import send, uploaded

FILES_JS = (
    Path(__file__).resolve().parent.parent
    / "src/smartcampus_chat/static/smartcampus_chat/js/chat/files.js"
)

SIZES = [0, 1, 33, 1023, 1024, 1075, 1536, 10 * 1024 - 1, 1048575, 1048576, 1572864]
SIZES += [25 * 1024 * 1024, 123_456_789, 5 * 1024**3 + 123_456_789]

#: Runs files.js in node with the page configuration of a language; prints its sizes.
SIZE_HARNESS = r"""
import { pathToFileURL } from "url";
const [config, sizes] = JSON.parse(process.argv[2]);
globalThis.document = {
  getElementById: () => ({ textContent: JSON.stringify(config) }),
  querySelector: () => null,
};
const { fileSize } = await import(pathToFileURL(process.argv[1]).href);
console.log(JSON.stringify(sizes.map(fileSize)));
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the client")
@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_size_reads_the_same_from_the_server_and_the_client(language: str) -> None:
    with translation.override(language):
        server = [file_size(size) for size in SIZES]
        config = {"locale": language, "i18n": client_strings()}
    done = subprocess.run(
        [
            "node",
            "--input-type=module",
            "-e",
            SIZE_HARNESS,
            str(FILES_JS),
            json.dumps([config, SIZES]),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    assert json.loads(done.stdout) == server
    expected = {
        "en": ["0 B", "1 B", "33 B", "1023 B", "1 KB", "1 KB", "1.5 KB", "10 KB"],
        "fr": ["0 o", "1 o", "33 o", "1023 o", "1 Ko", "1 Ko", "1,5 Ko", "10 Ko"],
    }[language]
    assert server[:8] == expected
    assert server[-3:] == (
        ["25 MB", "117.7 MB", "5.1 GB"] if language == "en" else ["25 Mo", "117,7 Mo", "5,1 Go"]
    )


def test_a_file_type_has_an_icon_and_a_label() -> None:
    assert file_type("application/pdf") == ("bi-file-earmark-pdf", "PDF")
    assert file_type("application/x-something-long-and-odd") == (
        "bi-file-earmark",
        "X-SOMETHING-",
    )
    # The client gets the same table.
    sent = attachment_config()["fileTypes"]
    assert sent == {name: list(kind) for name, kind in FILE_TYPES.items()}


@pytest.mark.django_db
def test_the_composer_offers_files_only_when_attachments_are_on(
    alice: Any, public_room: ChatRoom, settings: Any
) -> None:
    client = logged_in(alice)
    html = client.get(public_room.get_absolute_url()).content.decode()
    form = html.split('id="composer"')[1].split("</form>")[0]
    assert 'enctype="multipart/form-data"' in form
    assert re.search(r'<input type="file" name="files" [^>]*multiple', form)
    config = client_config(alice, public_room)
    assert config["uploadUrl"] == reverse(
        "smartcampus_chat:api-attachment-list", kwargs={"room_slug": "__slug__"}
    )
    assert config["attachmentUrl"].endswith("/attachments/0/")

    settings.SMARTCAMPUS_CHAT = {**getattr(settings, "SMARTCAMPUS_CHAT", {}), "ATTACHMENTS": False}
    html = client.get(public_room.get_absolute_url()).content.decode()
    form = html.split('id="composer"')[1].split("</form>")[0]
    assert "multipart" not in form
    assert 'name="files"' not in form
    config = client_config(alice, public_room)
    assert (config["uploadUrl"], config["attachmentUrl"]) == (None, None)


@pytest.mark.django_db
def test_the_server_renders_a_messages_files(alice: Any, public_room: ChatRoom) -> None:
    client = logged_in(alice)
    image = uploaded(client, public_room, files.png(800, 600), 'lab "photo" <b>.png')
    doc = uploaded(client, public_room, files.PDF, "slides.pdf")
    send(client, public_room, "The *lab*", [image["id"], doc["id"]])
    html = client.get(public_room.get_absolute_url()).content.decode()
    box = html.split('<ul class="scc-attachments"')[1].split("</ul>")[0]
    assert (
        f'<a class="scc-thumb" href="{image["url"]}" data-preview="{image["url"]}"'
        f' data-download="{image["download_url"]}" title="lab &quot;photo&quot; &lt;b&gt;.png">'
    ) in box
    assert (
        f'<img src="{image["thumbnail_url"]}" width="800" height="600" alt="The lab"'
        ' loading="lazy">'
    ) in box
    assert (
        f'<a class="scc-file-name" title="slides.pdf" href="{doc["url"]}" target="_blank"'
        ' rel="noopener">slides.pdf</a>'
    ) in box
    assert f'<span class="scc-file-meta">{len(files.PDF)} B · PDF</span>' in box
    assert 'aria-label="Download slides.pdf"' in box


@pytest.mark.django_db
def test_a_rooms_files_page_filters_by_kind_in_a_fixed_number_of_queries(
    alice: Any, bob: Any, public_room: ChatRoom, group_room: ChatRoom
) -> None:
    client = logged_in(alice)
    url = reverse("smartcampus_chat:room_files", args=[public_room.slug])

    def sent(count: int) -> None:
        for n in range(count):
            picture = uploaded(client, public_room, files.png(), f"p{n}.png")
            note = uploaded(client, public_room, b"note\n", f"n{n}.txt")
            send(client, public_room, f"batch {n}", [picture["id"], note["id"]])

    def page(query: dict[str, str] | None = None) -> tuple[str, int]:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url, query or {})
        assert response.status_code == 200
        return response.content.decode(), len(captured)

    sent(1)
    html, few = page()
    sent(4)
    html, many = page()
    assert many == few
    assert html.count('class="scc-attachment scc-attachment-image"') == 5
    assert html.count('class="scc-gallery-file"') == 5
    assert 'aria-current="page">All<' in html
    images, _queries = page({"kind": "image"})
    assert images.count("scc-attachment-image") == 5
    assert "scc-gallery-file" not in images
    others, _queries = page({"kind": "file"})
    assert "scc-attachment-image" not in others
    assert others.count('class="scc-gallery-file"') == 5
    # The room page links to it; a room one may not see is the chat's 404.
    assert url in client.get(public_room.get_absolute_url()).content.decode()
    hidden = logged_in(bob).get(reverse("smartcampus_chat:room_files", args=[group_room.slug]))
    assert hidden.status_code == 404


@pytest.mark.django_db
def test_an_empty_files_page_says_so(alice: Any, public_room: ChatRoom) -> None:
    client: Client = logged_in(alice)
    response = client.get(reverse("smartcampus_chat:room_files", args=[public_room.slug]))
    assert "No files were sent in this room yet." in response.content.decode()
