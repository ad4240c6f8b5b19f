"""Formatting (docs/formatting.md): Markdown rendered once on the server and sanitised,
through every door: the WebSocket, the REST API, the HTML pages; the plain-text previews;
the limits; the XSS corpus through the renderer."""

from __future__ import annotations

import html
import importlib
import re
import string
from io import StringIO
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.apps import apps as django_apps
from django.db import connection
from django.test import Client
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from smartcampus_chat import services
from smartcampus_chat.markup import markdown as markdown_module
from smartcampus_chat.markup import plain_text, render
from smartcampus_chat.markup.code import MAX_HIGHLIGHTED_CHARS
from smartcampus_chat.markup.markdown import MAX_NESTING
from smartcampus_chat.markup.maths import MAX_FORMULA_CHARS, MAX_FORMULAS
from smartcampus_chat.models import ChatMessage, ChatRoom
from smartcampus_chat.testing import open_room
from tests import markup_audit
from tests.http import api, logged_in
from tests.xss_corpus import PAYLOADS

ROOT = Path(__file__).resolve().parent.parent
db = database_sync_to_async
LINK = 'target="_blank" rel="noopener nofollow ugc"'


# --- The renderer ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            "**bold** *it* ~~gone~~ `x<y`",
            "<p><strong>bold</strong> <em>it</em> <s>gone</s> <code>x&lt;y</code></p>",
        ),
        ("line one\nline two", "<p>line one<br>\nline two</p>"),
        (
            "[site](https://uni.example/a?b=1&c=2)",
            f'<p><a href="https://uni.example/a?b=1&amp;c=2" {LINK}>site</a></p>',
        ),
        (
            "see https://uni.example/x",
            f'<p>see <a href="https://uni.example/x" {LINK}>https://uni.example/x</a></p>',
        ),
        (
            "mail <me@uni.example>",
            f'<p>mail <a href="mailto:me@uni.example" {LINK}>me@uni.example</a></p>',
        ),
        ("> quoted", "<blockquote>\n<p>quoted</p>\n</blockquote>"),
        ("- a\n- b", "<ul>\n<li>a</li>\n<li>b</li>\n</ul>"),
        ("3. c\n4. d", '<ol start="3">\n<li>c</li>\n<li>d</li>\n</ol>'),
        ("# not a title", "<p># not a title</p>"),
        ("---", "<p>---</p>"),
        (
            "![alt](https://x.example/i.png)",
            f'<p>!<a href="https://x.example/i.png" {LINK}>alt</a></p>',
        ),
        (
            "<b>raw</b> & <script>x</script>",
            "<p>&lt;b&gt;raw&lt;/b&gt; &amp; &lt;script&gt;x&lt;/script&gt;</p>",
        ),
        ("[x](javascript:alert(1))", "<p>[x](javascript:alert(1))</p>"),
        ("costs $5 and $10", "<p>costs $5 and $10</p>"),
    ],
)
def test_markdown_renders_the_chat_subset(source: str, expected: str) -> None:
    assert render(source) == expected


def test_a_table_aligns_with_classes_not_styles() -> None:
    rendered = render("| a | b | c |\n|:--|:-:|--:|\n| 1 | 2 | 3 |")
    assert "style" not in rendered
    cells = re.findall(r'<t[hd] class="(scc-align-\w+)">', rendered)
    assert cells == ["scc-align-left", "scc-align-center", "scc-align-right"] * 2


def test_fenced_code_is_highlighted_with_classes_for_a_named_language_only() -> None:
    python = render('```python\ndef f(x):\n    return "<b>"\n```')
    assert python.startswith('<pre class="scc-code"><code><span class="scc-hl-k">def</span>')
    assert '<span class="scc-hl-s2">"&lt;b&gt;"</span>' in python
    plain = render("```\ndef f(): pass\n```")
    assert plain == '<pre class="scc-code"><code>def f(): pass\n</code></pre>'
    unknown = render('```"><img src=x onerror=alert(1)>\n1 < 2\n```')
    assert unknown == '<pre class="scc-code"><code>1 &lt; 2\n</code></pre>'
    long = "x = 1\n" * (MAX_HIGHLIGHTED_CHARS // 6 + 1)
    assert "scc-hl-" not in render(f"```python\n{long}```")


def test_maths_is_mathml_with_its_tex_kept() -> None:
    inline = render(r"Euler: $e^{i\pi} + 1 = 0$")
    assert inline.startswith('<p>Euler: <math display="inline"><semantics>')
    assert "<msup><mi>e</mi>" in inline
    assert '<annotation encoding="application/x-tex">e^{i\\pi} + 1 = 0</annotation>' in inline
    block = render("$$\n\\frac{a}{b}\n$$")
    assert block.startswith('<p><math display="block"><semantics><mrow><mrow><mfrac>')
    assert plain_text(inline) == r"Euler: e^{i\pi} + 1 = 0"


@pytest.mark.parametrize(
    "tex",
    [r"\text{<img src=x onerror=alert(1)>}", r"\frac{", "x" * (MAX_FORMULA_CHARS + 1)],
)
def test_a_formula_that_cannot_be_shown_safely_is_shown_as_code(tex: str) -> None:
    rendered = render(f"${tex}$")
    assert (
        rendered
        == f'<p><code class="scc-math-error">{html.escape(f"${tex}$", quote=False)}</code></p>'
    )


def test_formulas_past_the_limit_are_shown_as_code() -> None:
    rendered = render(" ".join(f"$x_{n}$" for n in range(MAX_FORMULAS + 3)))
    assert rendered.count("<math ") == MAX_FORMULAS
    assert rendered.count('class="scc-math-error"') == 3


def test_nesting_past_the_limit_never_renders_blank() -> None:
    source = "> " * (MAX_NESTING + 5) + "deep text"
    rendered = render(source)
    assert "deep text" in plain_text(rendered)
    assert markup_audit.problems(rendered) == []


def test_plain_text_is_one_line_without_markup() -> None:
    source = "**Exam** on *Friday*\n\n- room `B2`\n- bring $\\pi$\n\n> ok &amp;"
    # "&amp;" is Markdown's way to write "&".
    assert plain_text(render(source)) == "Exam on Friday room B2 bring \\pi ok &"


def test_the_xss_corpus_renders_nothing_but_the_allow_list() -> None:
    found = {
        payload.number: problems
        for payload in PAYLOADS
        if (problems := markup_audit.problems(render(payload.text)))
    }
    assert found == {}
    # ...and is shown, not swallowed: every payload leaves text on the page.
    assert all(markup_audit.text_content(render(p.text)).strip() for p in PAYLOADS)


MARKDOWN_ATTACKS = [
    "[a](javascript:alert(1))",
    "[a](JaVaScRiPt:alert(1))",
    "[a](java\tscript:alert(1))",
    "[a](data:text/html;base64,PHNjcmlwdD4=)",
    "[a](vbscript:msgbox(1))",
    '[a](https://x.example "title\\" onmouseover=\\"alert(1))',
    "[a](<javascript:alert(1)>)",
    "<javascript:alert(1)>",
    "![a](javascript:alert(1))",
    "[a]: javascript:alert(1)\n\n[a]",
    "`<img src=x onerror=alert(1)>`",
    "```\n</code></pre><script>alert(1)</script>\n```",
    "| <img src=x onerror=alert(1)> |\n|---|\n| x |",
    "$\\href{javascript:alert(1)}{click}$",
    "$\\style{color:red}{x}$",
    "$$\\text{</math><img src=x onerror=alert(1)>}$$",
    "$\\color{red}{x}\\mathbin{<script>}$",
    "www.example.com/<script>alert(1)</script>",
    "[a](https://x.example/onerror=alert(1)//)",
]


@pytest.mark.parametrize("source", MARKDOWN_ATTACKS)
def test_markdown_specific_attacks_render_inert(source: str) -> None:
    rendered = render(source)
    assert markup_audit.problems(rendered) == []
    assert "<script" not in rendered
    assert "<img" not in rendered


def test_the_highlight_stylesheet_is_generated_from_pygments() -> None:
    generator = importlib.import_module("scripts.highlight_css")
    assert generator.CSS.read_text() == generator.generate()


# --- Through the doors -------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_a_websocket_send_and_edit_carry_the_source_and_its_rendering(
    alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    await db(services.do_join_room)(bob, public_room)
    sender = await open_room(alice, public_room.slug)
    reader = await open_room(bob, public_room.slug)
    try:
        stored = await sender.send_message(None, "**due** `Friday`")
        assert stored["content"] == "**due** `Friday`"
        assert stored["content_html"] == "<p><strong>due</strong> <code>Friday</code></p>"
        new = await reader.receive_frame("message.new")
        assert new["message"]["content_html"] == stored["content_html"]
        await sender.send_frame(
            type="message.edit", room=public_room.slug, message_id=stored["id"], content="*Monday*"
        )
        edited = await reader.receive_frame("message.edited")
        assert edited["message"]["content"] == "*Monday*"
        assert edited["message"]["content_html"] == "<p><em>Monday</em></p>"
    finally:
        await sender.disconnect()
        await reader.disconnect()
    row = await db(ChatMessage.objects.get)(pk=stored["id"])
    assert (row.content, row.content_html) == ("*Monday*", "<p><em>Monday</em></p>")


@pytest.mark.django_db
def test_the_rest_api_sends_edits_and_lists_formatted_messages(
    alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    client = logged_in(alice)
    url = api("message-list", room_slug=public_room.slug)
    sent = client.post(url, {"content": "a `b`"}, content_type="application/json")
    assert sent.status_code == 201, sent.content
    assert sent.json()["content_html"] == "<p>a <code>b</code></p>"
    detail = api("message-detail", room_slug=public_room.slug, pk=sent.json()["id"])
    edited = client.patch(detail, {"content": "~~b~~"}, content_type="application/json")
    assert edited.status_code == 200, edited.content
    assert edited.json()["content_html"] == "<p><s>b</s></p>"
    services.check_delete_message(
        alice, ChatMessage.objects.get(), services.room_access(alice, public_room)
    )
    services.do_join_room(bob, public_room)
    listed = logged_in(bob).get(url).json()["results"]
    assert [(m["content"], m["content_html"]) for m in listed] == [(None, None)]


@pytest.mark.django_db
def test_the_api_schema_documents_content_html() -> None:
    schema = Client().get(api("schema"), HTTP_ACCEPT="application/json").json()
    field = schema["components"]["schemas"]["Message"]["properties"]["content_html"]
    assert field["type"] == "string"
    assert field.get("nullable") is True


@pytest.mark.django_db
def test_the_room_page_shows_the_formatting_and_the_room_list_its_text(
    alice: Any, bob: Any, public_room: ChatRoom
) -> None:
    services.do_join_room(bob, public_room)
    services.do_send_message(alice, public_room, "**Exam** moved to <b>room</b> $x^2$")
    page = logged_in(bob).get(public_room.get_absolute_url()).content.decode()
    content = re.search(
        r'<div class="scc-content">(.*?)</div>\n    <div class="scc-poll"', page, re.S
    )
    assert content is not None
    assert content.group(1) == render("**Exam** moved to <b>room</b> $x^2$")
    assert "data-source" not in page.split('id="message-list"')[1]  # not bob's to edit
    mine = logged_in(alice).get(public_room.get_absolute_url()).content.decode()
    assert 'data-source="**Exam** moved to &lt;b&gt;room&lt;/b&gt; $x^2$"' in mine
    rooms = logged_in(bob).get(reverse("smartcampus_chat:room_list")).content.decode()
    preview = re.search(r'class="scc-preview[^"]*">([^<]*)<', rooms)
    assert preview is not None
    assert html.unescape(preview.group(1)).endswith(": Exam moved to <b>room</b> x^2")


@pytest.mark.django_db
def test_the_composer_offers_formatting_help_in_french(alice: Any, public_room: ChatRoom) -> None:
    page = logged_in(alice).get(public_room.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="fr")
    text = page.content.decode()
    assert '<details class="scc-format-help">' in text
    assert "Mise en forme" in text
    assert "Maj+Entrée passe à la ligne." in text


@pytest.mark.django_db
def test_the_migration_renders_the_messages_stored_before_it(
    alice: Any, public_room: ChatRoom
) -> None:
    ChatMessage.objects.bulk_create(
        [
            ChatMessage(room=public_room, sender=alice, content=f"**{n}**", seq=n, event_seq=n)
            for n in range(1, 2502)
        ]
    )
    assert set(ChatMessage.objects.values_list("content_html", flat=True)) == {""}
    migration = importlib.import_module("smartcampus_chat.migrations.0005_message_content_html")
    # The function reads the editor's connection only (a real editor cannot open inside the
    # test's transaction on SQLite).
    migration.render_existing(django_apps, SimpleNamespace(connection=connection))
    rows = dict(ChatMessage.objects.values_list("seq", "content_html"))
    assert rows == {n: f"<p><strong>{n}</strong></p>" for n in range(1, 2502)}


@pytest.mark.django_db
def test_maths_can_be_turned_off(settings: Any, alice: Any, public_room: ChatRoom) -> None:
    settings.SMARTCAMPUS_CHAT = {**settings.SMARTCAMPUS_CHAT, "MATHS": False}
    assert render("from $x$ to $y$") == "<p>from $x$ to $y$</p>"
    page = logged_in(alice).get(public_room.get_absolute_url()).content.decode()
    assert '<details class="scc-format-help">' in page
    assert "$x^2$" not in page  # the help has no maths row


@pytest.mark.django_db
def test_a_bad_maths_setting_is_reported_by_the_checks(settings: Any) -> None:
    from django.core.checks import run_checks

    settings.SMARTCAMPUS_CHAT = {**settings.SMARTCAMPUS_CHAT, "MATHS": "yes"}
    assert any("MATHS" in str(error.msg) for error in run_checks())


@pytest.mark.django_db
def test_the_command_renders_stored_messages_again(
    alice: Any, public_room: ChatRoom, group_room: ChatRoom
) -> None:
    from django.core.management import call_command

    kept = services.do_send_message(alice, public_room, "$x$").message
    for room in (public_room, group_room):  # imported without their HTML
        ChatMessage.objects.bulk_create(
            [ChatMessage(room=room, sender=alice, content="*a*", seq=2, event_seq=2)]
        )
    ChatMessage.objects.filter(pk=kept.pk).update(content_html="<p>old</p>")
    out = StringIO()
    call_command("chat_render_messages", "--missing", "--room", public_room.slug, stdout=out)
    assert out.getvalue() == "1 messages rendered.\n"
    rows = {(m.room_id, m.content): m.content_html for m in ChatMessage.objects.all()}
    assert rows[(public_room.pk, "*a*")] == "<p><em>a</em></p>"
    assert rows[(group_room.pk, "*a*")] == ""
    assert rows[(public_room.pk, "$x$")] == "<p>old</p>"
    call_command("chat_render_messages", stdout=StringIO())
    rows = {(m.room_id, m.content): m.content_html for m in ChatMessage.objects.all()}
    assert rows[(group_room.pk, "*a*")] == "<p><em>a</em></p>"
    assert rows[(public_room.pk, "$x$")] == render("$x$")


#: Letters (some accented, some not Latin), digits and every ASCII punctuation and space: a
#: line of them may match the plain-line shortcut or not.
_LINE = st.text(
    alphabet=st.sampled_from(list("abcXYZ019éàÉßλж ") + list(string.punctuation)), max_size=60
)


@settings(max_examples=5000, deadline=None)
@given(_LINE)
def test_the_plain_line_shortcut_renders_as_the_parser_does(line: str) -> None:
    if markdown_module._PLAIN.fullmatch(line):
        assert render(line) == markdown_module.render_markdown(line)


@pytest.mark.parametrize(
    "line",
    [
        "Does anyone have the notes from Tuesday's lecture? I missed the second half.",
        "Thanks! That makes sense now.",
        "Note: bring a calculator",
        'Il a dit "oui" (peut-être) à 50% = moins',
    ],
)
def test_common_chat_lines_take_the_shortcut(line: str) -> None:
    assert markdown_module._PLAIN.fullmatch(line)
    assert render(line) == markdown_module.render_markdown(line)
