"""Rendering stored messages again (``manage.py chat_render_messages``, migration 0005).

Sends and edits render a message when it is written (:mod:`.send_checks`,
:func:`.messages.do_edit_message`); this renders messages already stored: after an upgrade
of the renderer, a change of the ``MATHS`` setting, or rows a bulk import wrote without
their HTML. It changes no message's content or numbers and publishes nothing: open pages
show the new rendering at their next load.
"""

from __future__ import annotations

from typing import Any

from smartcampus_chat import markup

#: Messages read, rendered and written back per query.
BATCH = 1000


def do_render_messages(messages: Any, *, only_missing: bool = False) -> int:
    """Render ``messages`` (a ``ChatMessage`` queryset, the migration's historical model's
    too) a batch at a time by primary key; ``only_missing``: those without HTML. Returns
    how many were written."""
    if only_missing:
        messages = messages.filter(content_html="")
    written = 0
    last = 0
    while True:
        batch = list(messages.filter(pk__gt=last).order_by("pk").only("pk", "content")[:BATCH])
        if not batch:
            return written
        for message in batch:
            message.content_html = markup.render(message.content)
        messages.model.objects.using(messages.db).bulk_update(batch, ["content_html"])
        written += len(batch)
        last = batch[-1].pk
