from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("smartcampus_chat", "0006_chatreaction"),
    ]

    operations = [
        migrations.AddField(
            model_name="chatmessage",
            name="pinned_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="pinned at"),
        ),
        migrations.AddIndex(
            model_name="chatmessage",
            index=models.Index(
                condition=models.Q(pinned_at__isnull=False),
                fields=["room", "pinned_at"],
                name="scchat_msg_pinned_idx",
            ),
        ),
    ]
