"""How a conversation reads: messages grouped by author, day separators, the "new messages"
divider, and the one format of a message's time.

The browser client applies the very same rules to the messages it adds (``js/chat/
timeline.js`` and ``js/chat/dates.js``): the page config hands it the time zone, the
language and whether times use a 12-hour clock (:func:`clock_config`), so a time or a day
reads the same whether the server or the client rendered it (docs/frontend.md, "Times").
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.translation import get_language, gettext, pgettext

#: Consecutive messages of one author closer than this show the author once.
GROUP_GAP = datetime.timedelta(minutes=5)


def time_format() -> str:
    """Django's format of a message's time in the active language.

    Translated (``pgettext``) so that each language picks its clock; the client formats
    live messages with ``Intl.DateTimeFormat`` and the matching clock, which gives the same
    text ("11:47 PM" in English, "23:47" in French).
    """
    return pgettext("time of a chat message (Django date format)", "g:i A")


def day_format() -> str:
    """Django's format of a day separator's date in the active language (matches
    ``Intl.DateTimeFormat`` with ``{year: "numeric", month: "long", day: "numeric"}``)."""
    return pgettext("date of a chat day separator (Django date format)", "F j, Y")


def uses_12_hour_clock(fmt: str) -> bool:
    """Whether a Django time format shows a 12-hour clock (g, h, a or A)."""
    return any(code in fmt for code in "ghaA")


def clock_config() -> dict[str, Any]:
    """What the client needs to format times as the server does (``#scc-config``)."""
    return {
        "timeZone": timezone.get_current_timezone_name(),
        "locale": get_language() or "en",
        "hour12": uses_12_hour_clock(time_format()),
    }


def day_label(day: datetime.date, today: datetime.date) -> str:
    if day == today:
        return gettext("Today")
    if day == today - datetime.timedelta(days=1):
        return gettext("Yesterday")
    return date_format(day, day_format())


@dataclass(frozen=True)
class TimelineItem:
    """A message row as the conversation shows it."""

    row: Any
    #: The day separator shown before it (None: same day as the previous message).
    day: str | None
    #: It continues its author's group: the author is not shown again.
    grouped: bool
    #: The "new messages" divider is shown before it.
    divider: bool
    time: str


def timeline(
    rows: Sequence[Any], *, user_id: Any, last_read_seq: int | None, has_before: bool = False
) -> list[TimelineItem]:
    """``rows`` (each with a ``message``), oldest first, as the conversation shows them.

    The divider goes before the first message of someone else after ``last_read_seq``
    (None: the reader is not a participant, no divider), when the unread messages start
    on this page: not when older pages (``has_before``) hold unread ones too, where the
    first row would be a wrong "start". A day change or the divider breaks a group; so
    does a deleted author (the group is by ``sender_id``), and an anonymous post, which
    never joins its author's group.
    """
    today = timezone.localdate()
    items: list[TimelineItem] = []
    previous: Any = None
    previous_day: datetime.date | None = None
    divided = (
        last_read_seq is None
        or not rows
        or (has_before and rows[0].message.seq > last_read_seq + 1)
    )
    for row in rows:
        message = row.message
        local = timezone.localtime(message.created_at)
        day = local.date()
        divider = not divided and message.seq > last_read_seq and message.sender_id != user_id
        divided = divided or divider
        grouped = (
            previous is not None
            and not divider
            and day == previous_day
            and message.sender_id is not None
            and message.sender_id == previous.sender_id
            and not message.anonymous
            and not previous.anonymous
            and message.created_at - previous.created_at < GROUP_GAP
        )
        items.append(
            TimelineItem(
                row=row,
                day=day_label(day, today) if day != previous_day else None,
                grouped=grouped,
                divider=divider,
                time=date_format(local, time_format()),
            )
        )
        previous, previous_day = message, day
    return items
