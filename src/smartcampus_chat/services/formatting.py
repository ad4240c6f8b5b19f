"""Rendering stored messages again (``manage.py chat_render_messages``, migration 0005).

Sends and edits render a message when it is written (:mod:`.send_checks`,
:func:`.messages.do_edit_message`); this renders messages already stored: after an upgrade
of the renderer, a change of the ``MATHS`` setting, or rows a bulk import wrote without
their HTML. It changes no message's content or numbers and publishes nothing: open pages
show the new rendering at their next load.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch

from smartcampus_chat import markup
from smartcampus_chat.models import ChatMention, ChatMessage
from smartcampus_chat.services.mentions import stored_mentionable

#: Messages read, rendered and written back per query.
BATCH = 1000


def do_render_messages(messages: Any, *, only_missing: bool = False) -> int:
    """Render ``messages`` (a ``ChatMessage`` queryset, the migration's historical model's
    too) a batch at a time by primary key; ``only_missing``: those without HTML. Returns
    how many were written. Mentions are marked as stored (the historical model of migration
    0005 predates them: none)."""
    if only_missing:
        messages = messages.filter(content_html="")
    with_mentions = messages.model is ChatMessage
    if with_mentions:
        rows = ChatMention.objects.select_related("user").order_by("pk")
        messages = messages.prefetch_related(Prefetch("mentions", rows, to_attr="mention_rows"))
    written = 0
    last = 0
    while True:
        batch = list(messages.filter(pk__gt=last).order_by("pk").only("pk", "content")[:BATCH])
        if not batch:
            return written
        for message in batch:
            mentionable = (
                stored_mentionable(message.mention_rows) if with_mentions else markup.NOBODY
            )
            message.content_html = markup.render(message.content, mentionable)
        messages.model.objects.using(messages.db).bulk_update(batch, ["content_html"])
        written += len(batch)
        last = batch[-1].pk
