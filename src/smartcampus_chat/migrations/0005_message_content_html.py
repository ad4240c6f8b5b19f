"""Messages keep their content rendered as HTML (Markdown, sanitised) beside the source.

Existing messages are rendered here, a thousand at a time: on a large table this takes a
while (about 1 ms per message; docs/formatting.md, "Upgrading").
"""

from typing import Any

from django.db import migrations, models

BATCH = 1000


def render_existing(apps: Any, schema_editor: Any) -> None:
    from smartcampus_chat.domain.markup import render  # noqa: PLC0415 - the current renderer

    message_model = apps.get_model("smartcampus_chat", "ChatMessage")
    rows = message_model.objects.using(schema_editor.connection.alias)
    last = 0
    while True:
        batch = list(rows.filter(pk__gt=last).order_by("pk").only("pk", "content")[:BATCH])
        if not batch:
            return
        for message in batch:
            message.content_html = render(message.content)
        rows.bulk_update(batch, ["content_html"])
        last = batch[-1].pk


class Migration(migrations.Migration):
    dependencies = [
        ("smartcampus_chat", "0004_message_kind"),
    ]

    operations = [
        migrations.AddField(
            model_name="chatmessage",
            name="content_html",
            field=models.TextField(
                blank=True,
                db_default="",
                default="",
                editable=False,
                verbose_name="content as HTML",
            ),
        ),
        migrations.RunPython(render_existing, migrations.RunPython.noop, elidable=True),
    ]
