"""Messages keep their content rendered as HTML (Markdown, sanitised) beside the source.

Existing messages are rendered here, a thousand at a time (docs/formatting.md, "Upgrading":
the cost per message).
"""

from typing import Any

from django.db import migrations, models


def render_existing(apps: Any, schema_editor: Any) -> None:
    from smartcampus_chat.services.formatting import do_render_messages  # noqa: PLC0415

    message_model = apps.get_model("smartcampus_chat", "ChatMessage")
    do_render_messages(message_model.objects.using(schema_editor.connection.alias))


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
