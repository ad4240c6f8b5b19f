"""Attachments in the browser, each through the real UI (docs/frontend.md, "Attachments"):
attaching by the button, a drop and a paste; the thumbnail shown live to another member,
the same DOM after a reload; the viewer (keyboard, focus); the download's name; a member
removed from the room loses the files; upload progress, cancel, retry, the client's
pre-checks; the room's files page; the no-JS form."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import unquote

from playwright.sync_api import FilePayload, Locator, Page, expect

from tests.attachment_files import PDF, SVG, png
from tests.browser.conftest import MESSAGES, Api, OpenPage, composer, csrf_token, send

UPLOADS = "#composer li.scc-upload"
DONE = "#composer li.scc-upload.scc-upload-done"

# The DOM under an element as data: tags, sorted attributes, text. Compares the server's
# rendering with the client's.
SHAPE = """(root) => {
  const walk = (n) => n.nodeType === Node.TEXT_NODE ? n.textContent
    : [n.localName, [...n.attributes].map((a) => [a.name, a.value]).sort(),
       [...n.childNodes].map(walk)];
  return walk(root);
}"""

# Files built in the page (base64 in, File objects out), kept as window.__dt.
DATA_TRANSFER = """(files) => {
  const dt = new DataTransfer();
  for (const [name, type, data] of files) {
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    dt.items.add(new File([bytes], name, {type}));
  }
  window.__dt = dt;
}"""

DRAG = """([selector, kind]) => {
  const target = document.querySelector(selector);
  target.dispatchEvent(new DragEvent(kind, {bubbles: true, cancelable: true,
                                            dataTransfer: window.__dt}));
}"""

PASTE = """(selector) => {
  const target = document.querySelector(selector);
  target.focus();
  return target.dispatchEvent(new ClipboardEvent("paste", {bubbles: true, cancelable: true,
                                                           clipboardData: window.__dt}));
}"""

IMAGE_LOADED = "img => img.complete && img.naturalWidth > 0"


def payload(name: str, data: bytes, mime: str = "application/octet-stream") -> FilePayload:
    return {"name": name, "mimeType": mime, "buffer": data}


def image(name: str, width: int = 64, height: int = 48) -> FilePayload:
    return payload(name, png(width, height), "image/png")


def attach(page: Page, *files: FilePayload) -> None:
    """Attach ``files`` with the composer's button and its file chooser."""
    with page.expect_file_chooser() as chooser:
        page.locator("#composer button.scc-attach").click()
    assert chooser.value.is_multiple()
    chooser.value.set_files(list(files))


def in_page(page: Page, *files: FilePayload) -> None:
    """Make ``files`` a DataTransfer in the page (window.__dt), as a drag or the clipboard
    holds them."""
    page.evaluate(
        DATA_TRANSFER,
        [[f["name"], f["mimeType"], base64.b64encode(f["buffer"]).decode()] for f in files],
    )


def message(page: Page, text: str) -> Locator:
    return page.locator(MESSAGES, has=page.locator(".scc-content", has_text=text))


def newest(page: Page) -> Locator:
    return page.locator(f"{MESSAGES}:not(.scc-pending)").last


def user_id(page: Page) -> int:
    found: int = page.evaluate(
        "JSON.parse(document.getElementById('scc-config').textContent).userId"
    )
    return found


@contextmanager
def slow_uploads(page: Page, bytes_per_second: int) -> Iterator[None]:
    """Uploads from ``page`` throttled (Chromium's network emulation), so that their
    progress shows and they can be cancelled while they run."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": 0,
            "downloadThroughput": -1,
            "uploadThroughput": bytes_per_second,
        },
    )
    try:
        yield
    finally:
        cdp.send(
            "Network.emulateNetworkConditions",
            {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
        )
        cdp.detach()


def test_attach_by_button_live_thumbnail_and_the_same_dom_after_a_reload(
    open_page: OpenPage, room: Callable[..., str]
) -> None:
    slug = room("alice", "bob")
    alice = open_page("alice", f"/chat/room/{slug}/")
    bob = open_page("bob", f"/chat/room/{slug}/")
    expect(bob.locator("#participants .scc-online")).to_have_count(2)

    attach(alice, image("lab.png", 800, 600), payload("safety.pdf", PDF, "application/pdf"))
    chip = alice.locator(UPLOADS)
    expect(chip).to_have_count(2)
    expect(chip.locator(".scc-upload-name")).to_have_text(["lab.png", "safety.pdf"])
    expect(chip.first.locator("img.scc-upload-thumb")).to_have_attribute(
        "src", re.compile("^blob:")
    )
    expect(alice.locator(DONE)).to_have_count(2)
    expect(chip.get_by_role("button", name="Remove lab.png")).to_be_visible()
    send(alice, "The robotics lab")
    expect(alice.locator(UPLOADS)).to_have_count(0)

    thumb = message(bob, "robotics lab").locator("a.scc-thumb img")
    expect(thumb).to_have_count(1)
    expect(thumb).to_have_attribute("alt", "The robotics lab")
    expect(thumb).to_have_attribute("width", "800")
    expect(thumb).to_have_attribute("height", "600")
    expect(thumb).to_have_attribute("loading", "lazy")
    expect(thumb).to_have_attribute("src", re.compile(r"/chat/files/\d+/thumb/small/$"))
    bob.wait_for_function(IMAGE_LOADED, arg=thumb.element_handle())
    expect(message(bob, "robotics lab").locator("li.scc-file .scc-file-name")).to_have_text(
        "safety.pdf"
    )
    live = message(bob, "robotics lab").locator(".scc-attachments").evaluate(SHAPE)
    sent = message(alice, "robotics lab").locator(".scc-attachments").evaluate(SHAPE)

    bob.reload()
    server = message(bob, "robotics lab")
    expect(server).to_have_class(re.compile("scc-static"))
    assert server.locator(".scc-attachments").evaluate(SHAPE) == live == sent


def test_drop_files_on_the_conversation(open_page: OpenPage, room: Callable[..., str]) -> None:
    slug = room("alice", "bob")
    alice = open_page("alice", f"/chat/room/{slug}/")
    bob = open_page("bob", f"/chat/room/{slug}/")
    in_page(alice, payload("notes.txt", b"Linear maps, kernels and images.\n", "text/plain"))
    zone = alice.locator(".scc-conversation .scc-dropzone")
    expect(zone).to_be_hidden()
    alice.evaluate(DRAG, [".scc-conversation", "dragenter"])
    expect(zone).to_be_visible()
    expect(zone).to_have_text("Drop the files here to attach them")
    expect(alice.locator("#live-region")).to_have_text("Drop the files here to attach them")
    alice.evaluate(DRAG, ["#message-list", "dragover"])
    alice.evaluate(DRAG, ["#message-list", "drop"])
    expect(zone).to_be_hidden()
    expect(alice.locator(DONE)).to_have_count(1)

    # No text: the file alone is the message.
    composer(alice).press("Enter")
    card = newest(bob).locator("li.scc-file")
    expect(card).to_have_count(1)
    expect(card.locator(".scc-file-name")).to_have_text("notes.txt")
    expect(card.locator(".scc-file-meta")).to_have_text("33 B · TXT")
    expect(card.locator(".scc-file-icon")).to_have_class(re.compile("bi-file-earmark-text"))
    download = card.get_by_role("link", name="Download notes.txt")
    expect(download).to_have_attribute("href", re.compile(r"/chat/files/\d+/\?download=1$"))


def test_paste_an_image_from_the_clipboard(open_page: OpenPage, room: Callable[..., str]) -> None:
    slug = room("alice", "bob")
    alice = open_page("alice", f"/chat/room/{slug}/")
    bob = open_page("bob", f"/chat/room/{slug}/")
    in_page(alice, image("image.png", 120, 90))
    handled = alice.evaluate(PASTE, "#composer textarea[name=content]")
    assert handled is False  # the composer took the paste (preventDefault)
    expect(alice.locator(DONE)).to_have_count(1)
    expect(alice.locator(f"{UPLOADS} img.scc-upload-thumb")).to_have_count(1)
    expect(composer(alice)).to_have_value("")
    send(alice, "Pasted screenshot")
    thumb = message(bob, "Pasted screenshot").locator("a.scc-thumb img")
    expect(thumb).to_have_attribute("alt", "Pasted screenshot")
    bob.wait_for_function(IMAGE_LOADED, arg=thumb.element_handle())


def test_the_viewer_keyboard_focus_and_caption(
    open_page: OpenPage, room: Callable[..., str]
) -> None:
    slug = room("alice")
    page = open_page("alice", f"/chat/room/{slug}/")
    attach(page, image("one.png", 400, 300), image("two.png", 300, 400), image("three.png"))
    expect(page.locator(DONE)).to_have_count(3)
    send(page, "Three photos")
    thumbs = message(page, "Three photos").locator("a.scc-thumb")
    expect(thumbs).to_have_count(3)
    expect(message(page, "Three photos")).not_to_have_class(re.compile("scc-pending"))

    thumbs.nth(1).click()
    viewer = page.locator("dialog.scc-viewer")
    expect(viewer).to_be_visible()
    expect(viewer).to_have_attribute("aria-label", "Image viewer")
    expect(viewer.locator(".scc-viewer-count")).to_have_text("Image 2 of 3")
    expect(viewer.locator(".scc-viewer-caption")).to_have_text("Three photos")
    big = viewer.locator("img.scc-viewer-image")
    expect(big).to_have_attribute("src", thumbs.nth(1).get_attribute("data-preview") or "")
    expect(big).to_have_attribute("alt", "Three photos")
    page.wait_for_function(IMAGE_LOADED, arg=big.element_handle())
    download = viewer.get_by_role("link", name="Download")
    expect(download).to_have_attribute("href", re.compile(r"\?download=1$"))

    page.keyboard.press("ArrowRight")
    expect(viewer.locator(".scc-viewer-count")).to_have_text("Image 3 of 3")
    expect(big).to_have_attribute("src", thumbs.nth(2).get_attribute("data-preview") or "")
    page.keyboard.press("ArrowRight")  # the last: stays
    expect(viewer.locator(".scc-viewer-count")).to_have_text("Image 3 of 3")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    expect(viewer.locator(".scc-viewer-count")).to_have_text("Image 1 of 3")
    expect(viewer.get_by_role("button", name="Previous image")).to_be_disabled()

    # Tab and Shift+Tab stay inside the dialog.
    for key in ["Tab"] * 5 + ["Shift+Tab"] * 5:
        page.keyboard.press(key)
        assert page.evaluate("document.activeElement.closest('dialog.scc-viewer') !== null")

    page.keyboard.press("Escape")
    expect(viewer).to_have_count(0)
    expect(thumbs.nth(0)).to_be_focused()

    # A click on the close button closes it too, the focus back on the thumbnail.
    thumbs.nth(2).click()
    page.get_by_role("button", name="Close").click()
    expect(viewer).to_have_count(0)
    expect(thumbs.nth(2)).to_be_focused()


def test_the_download_has_the_original_name_and_a_pdf_opens_in_a_tab(
    open_page: OpenPage, room: Callable[..., str]
) -> None:
    slug = room("alice", "bob")
    alice = open_page("alice", f"/chat/room/{slug}/")
    bob = open_page("bob", f"/chat/room/{slug}/")
    name = "Cours d'algèbre — chapitre 1.pdf"
    attach(alice, payload(name, PDF, "application/pdf"))
    expect(alice.locator(DONE)).to_have_count(1)
    send(alice, "The slides")
    card = message(bob, "The slides").locator("li.scc-file")
    link = card.locator("a.scc-file-name")
    expect(link).to_have_text(name)
    expect(link).to_have_attribute("title", name)
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("rel", "noopener")
    expect(card.locator(".scc-file-meta")).to_contain_text("PDF")

    with bob.expect_download() as download:
        card.get_by_role("link", name=f"Download {name}").click()
    assert download.value.suggested_filename == name

    answer = bob.request.get(card.locator("a.scc-file-download").get_attribute("href") or "")
    assert answer.status == 200
    disposition = answer.headers["content-disposition"]
    assert disposition.startswith("attachment")
    encoded = re.search(r"filename\*=(?:utf-8|UTF-8)''([^;]+)", disposition)
    assert encoded is not None
    assert unquote(encoded.group(1)) == name
    assert answer.headers["x-content-type-options"] == "nosniff"


def test_a_member_removed_from_the_room_gets_404_on_its_files(
    open_page: OpenPage, room: Callable[..., str]
) -> None:
    slug = room("alice", "bob")
    alice = open_page("alice", f"/chat/room/{slug}/")
    bob = open_page("bob", f"/chat/room/{slug}/")
    attach(alice, image("secret.png", 640, 480))
    expect(alice.locator(DONE)).to_have_count(1)
    send(alice, "Members only")
    thumb = message(bob, "Members only").locator("a.scc-thumb")
    expect(thumb).to_have_count(1)
    urls = [
        thumb.get_attribute("href") or "",
        thumb.get_attribute("data-download") or "",
        thumb.locator("img").get_attribute("src") or "",
    ]
    for url in urls:
        assert bob.request.get(url).status == 200, url

    Api(alice).call("DELETE", f"rooms/{slug}/members/{user_id(bob)}/")
    for url in urls:
        assert bob.request.get(url).status == 404, url
    assert alice.request.get(urls[0]).status == 200


def test_progress_cancel_and_sending_waits_for_the_uploads(
    open_page: OpenPage, room: Callable[..., str]
) -> None:
    slug = room("alice")
    page = open_page("alice", f"/chat/room/{slug}/")
    created: list[str] = []
    page.on(
        "response",
        lambda r: created.append(r.url) if r.request.method == "POST" and r.status == 201 else None,
    )
    with slow_uploads(page, 64 * 1024):
        attach(page, payload("big.bin", b"\0" * (1024 * 1024), "application/zip"))
        bar = page.get_by_role("progressbar", name="Uploading big.bin")
        expect(bar).to_be_visible()
        page.wait_for_function(
            "() => { const p = document.querySelector('#composer progress');"
            " return p && p.value > 0 && p.value < 100; }"
        )
        # Sending now sends nothing: the text stays, and why is said.
        box = composer(page)
        box.fill("With the archive")
        box.press("Enter")
        problem = page.locator("#composer .scc-upload-problem")
        expect(problem).to_have_text("Wait until the files are uploaded.")
        expect(page.locator("#live-region")).to_have_text("Wait until the files are uploaded.")
        expect(page.locator("#composer .scc-send")).to_have_attribute("aria-disabled", "true")
        expect(box).to_have_value("With the archive")
        expect(page.locator(MESSAGES)).to_have_count(0)

        page.get_by_role("button", name="Cancel the upload of big.bin").click()
        expect(page.locator(UPLOADS)).to_have_count(0)
        expect(box).to_be_focused()
    expect(page.locator("#composer .scc-send")).to_have_attribute("aria-disabled", "false")
    box.press("Enter")
    expect(message(page, "With the archive")).to_have_count(1)
    expect(message(page, "With the archive").locator(".scc-attachments")).to_be_hidden()
    assert not [url for url in created if "/attachments/" in url]


def test_a_failed_upload_shows_the_servers_error_and_retries(
    open_page: OpenPage, room: Callable[..., str]
) -> None:
    slug = room("alice")
    page = open_page("alice", f"/chat/room/{slug}/")

    # Refused by the server: its own message is shown.
    answer = page.request.post(
        f"/chat/api/rooms/{slug}/attachments/",
        headers={"X-CSRFToken": csrf_token(page)},
        multipart={"file": payload("drawing.svg", SVG, "image/svg+xml")},
    )
    assert answer.status == 415
    refused = answer.json()["error"]["message"]
    attach(page, payload("drawing.svg", SVG, "image/svg+xml"))
    chip = page.locator(UPLOADS)
    expect(chip.locator(".scc-upload-error-text")).to_have_text(refused)
    expect(page.locator("#live-region")).to_have_text(f"drawing.svg: {refused}")
    page.get_by_role("button", name="Remove drawing.svg").click()
    expect(chip).to_have_count(0)

    # A failure that passes (the server unavailable once): Retry uploads again.
    failures = {"left": 1}

    def unavailable(route: Any) -> None:
        if failures["left"]:
            failures["left"] -= 1
            route.fulfill(
                status=503,
                content_type="application/json",
                body='{"error": {"code": "unavailable", "message": "Try again in a moment."}}',
            )
        else:
            route.continue_()

    page.route("**/attachments/", unavailable)
    attach(page, image("retry.png"))
    expect(chip.locator(".scc-upload-error-text")).to_have_text("Try again in a moment.")
    retry = page.get_by_role("button", name="Retry the upload of retry.png")
    composer(page).fill("Retried")
    composer(page).press("Enter")
    expect(page.locator("#composer .scc-upload-problem")).to_have_text(
        "Retry or remove the files that could not be uploaded."
    )
    retry.click()
    expect(page.locator(DONE)).to_have_count(1)
    expect(page.get_by_role("button", name="Remove retry.png")).to_be_focused()
    composer(page).press("Enter")
    expect(message(page, "Retried").locator("a.scc-thumb")).to_have_count(1)

    # A finished upload removed before sending is deleted on the server.
    attach(page, image("unwanted.png"))
    expect(page.locator(DONE)).to_have_count(1)
    with page.expect_response(lambda r: r.request.method == "DELETE") as deleted:
        page.get_by_role("button", name="Remove unwanted.png").click()
    assert deleted.value.status == 204


def test_the_client_refuses_what_the_server_would(
    open_page: OpenPage, room: Callable[..., str]
) -> None:
    slug = room("alice")
    page = open_page("alice", f"/chat/room/{slug}/")
    config = page.evaluate("JSON.parse(document.getElementById('scc-config').textContent)")
    uploads: list[str] = []
    page.on("request", lambda r: uploads.append(r.url) if r.method == "POST" else None)

    # Over the size limit: refused before any upload, with no retry, as the server says.
    limit = config["attachmentMaxBytes"]
    answer = page.request.post(
        f"/chat/api/rooms/{slug}/attachments/",
        headers={"X-CSRFToken": csrf_token(page)},
        multipart={"file": payload("huge.zip", b"\0" * (limit + 1), "application/zip")},
    )
    assert answer.status == 413
    too_large = answer.json()["error"]["message"]
    page.evaluate(
        """(size) => {
          const dt = new DataTransfer();
          dt.items.add(new File([new Uint8Array(size)], "huge.zip", {type: "application/zip"}));
          window.__dt = dt;
        }""",
        limit + 1,
    )
    page.evaluate(DRAG, [".scc-conversation", "drop"])
    chip = page.locator(UPLOADS)
    expect(chip.locator(".scc-upload-error-text")).to_have_text(too_large)
    expect(chip.locator(".scc-upload-retry")).to_have_count(0)
    assert not uploads
    chip.get_by_role("button", name="Remove huge.zip").click()

    # More files than a message takes: the extra ones are refused, said once.
    count = config["attachmentsPerMessage"]
    in_page(page, *[payload(f"n{k}.txt", b"note %d" % k, "text/plain") for k in range(count + 2)])
    page.evaluate(DRAG, [".scc-conversation", "drop"])
    expect(page.locator(UPLOADS)).to_have_count(count)
    expect(page.locator("#composer .scc-upload-problem")).to_have_text(
        "This message has too many attached files."
    )
    expect(page.locator(DONE)).to_have_count(count)
    composer(page).press("Enter")
    expect(newest(page).locator("li.scc-file")).to_have_count(count)


def test_the_rooms_files_page(open_page: OpenPage, room: Callable[..., str]) -> None:
    slug = room("alice")
    page = open_page("alice", f"/chat/room/{slug}/")
    attach(page, image("poster.png", 320, 200), payload("plan.pdf", PDF, "application/pdf"))
    expect(page.locator(DONE)).to_have_count(2)
    send(page, "Poster and plan")
    expect(message(page, "Poster and plan")).not_to_have_class(re.compile("scc-pending"))

    page.locator("#scc-details .scc-files-link").click()
    page.wait_for_url(f"**/chat/room/{slug}/files/")
    images = page.locator(".scc-gallery-images a.scc-thumb img")
    expect(images).to_have_count(1)
    expect(images).to_have_attribute("alt", "Poster and plan")
    files = page.locator(".scc-gallery-files li.scc-gallery-file")
    expect(files).to_have_count(1)
    expect(files.locator(".scc-file-name")).to_have_text("plan.pdf")
    expect(files.locator(".scc-author")).to_have_text("Alice Durand")

    page.get_by_role("link", name="Images").click()
    expect(page.get_by_role("link", name="Images")).to_have_attribute("aria-current", "page")
    expect(images).to_have_count(1)
    expect(files).to_have_count(0)
    page.get_by_role("link", name="Other files").click()
    expect(images).to_have_count(0)
    expect(files).to_have_count(1)
    files.locator(".scc-gallery-source").click()
    page.wait_for_url(re.compile(rf"/chat/room/{slug}/.*#message-\d+$"))


def test_without_javascript_the_form_sends_files(
    open_page: OpenPage, room: Callable[..., str]
) -> None:
    slug = room("alice")
    page = open_page("alice", f"/chat/room/{slug}/", java_script_enabled=False)
    form = page.locator("#composer")
    expect(form).to_have_attribute("enctype", "multipart/form-data")
    form.locator("input[type=file][name=files]").set_input_files(
        [image("plain.png"), payload("plain.txt", b"no script\n", "text/plain")]
    )
    form.locator("textarea[name=content]").fill("Sent without JavaScript")
    form.locator("button[type=submit]").click()
    sent = message(page, "Sent without JavaScript")
    expect(sent.locator("a.scc-thumb img")).to_have_attribute("alt", "Sent without JavaScript")
    expect(sent.locator(".scc-file-name")).to_have_text("plain.txt")
