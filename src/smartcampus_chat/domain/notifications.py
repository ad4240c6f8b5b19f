"""Who is told of a message, and through which channel (docs/notifications.md).

The rules in one place, read by the notify step (which messages make a notification), by
the worker (which channels still deliver it) and by the preference forms (what a person
may choose). The decision table, from the message's point of view:

============ ================================ ==================================
kind         who                              when the room's level is
============ ================================ ==================================
mention      the people it marks; every       "all" or "mentions"
             member for ``@everyone``
reply        the author of the quoted message "all" or "mentions"
private      the other member of a private    "all" or "mentions"
             room
message      every other member               "all"
============ ================================ ==================================

A member whose level is "nothing", or who muted the room until later, gets nothing from
it; nobody is notified of their own message. A person gets one notification per message,
of the strongest kind that applies (the order above).

Channels: the notification centre always holds it; the browser notification, Web Push and
the e-mail digest each need the site's switch and the person's choice (or the site's
default while they have not chosen). The digest gathers only what was meant for the
person (mentions, replies, private messages: :data:`DIGEST_KINDS`). Quiet hours silence
the two that interrupt (browser and push); the digest waits for nothing but its delay.
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime, time, timedelta
from datetime import timezone as dt_timezone
from typing import Any, Literal

from django.conf import settings
from django.utils import timezone

from smartcampus_chat.conf import app_settings
from smartcampus_chat.models import ChatPreferences, NotificationKind, NotifyLevel

Channel = Literal["browser", "push", "email"]

#: Kinds by strength: a message that both mentions a person and answers them is a mention.
KIND_ORDER = (
    NotificationKind.ANNOUNCEMENT,
    NotificationKind.MENTION,
    NotificationKind.REPLY,
    NotificationKind.PRIVATE,
    NotificationKind.MESSAGE,
)

#: "Until I turn it back on": a mute that ends only by hand (kept clear of the largest
#: date, so that shown in any time zone it stays a valid date).
MUTED_FOREVER = datetime(9999, 1, 1, tzinfo=dt_timezone.utc)

#: "Mute for…" in a room's notification menu: the spans a person picks from, by the value
#: the menu posts (the HTML form, and the browser client through the page's config).
MUTE_FOR = {
    "1h": timedelta(hours=1),
    "8h": timedelta(hours=8),
    "1d": timedelta(days=1),
    "1w": timedelta(weeks=1),
}


def mute_end(choice: str, current: datetime | None, now: datetime) -> datetime | None:
    """When a room's mute ends after ``choice``: "off" unmutes, "forever" mutes until
    turned back on, a key of :data:`MUTE_FOR` mutes for that long from ``now``; anything
    else (no choice) keeps ``current``."""
    if choice == "off":
        return None
    if choice == "forever":
        return MUTED_FOREVER
    if choice in MUTE_FOR:
        return now + MUTE_FOR[choice]
    return current


#: Most minutes a digest may wait (one week).
MAX_DIGEST_DELAY = 7 * 24 * 60


def effective_level(participant_level: str, room_type: str) -> str:
    """The member's level in a room: their choice, else the site's default for its type."""
    if participant_level:
        return participant_level
    return app_settings.NOTIFY_DEFAULT_LEVELS.get(room_type, NotifyLevel.MENTIONS)


def is_muted(muted_until: datetime | None, now: datetime) -> bool:
    return muted_until is not None and muted_until > now


def level_admits(level: str, kind: str) -> bool:
    """Whether a room at ``level`` notifies of a message of ``kind``."""
    if level == NotifyLevel.ALL:
        return True
    if level == NotifyLevel.MENTIONS:
        return kind != NotificationKind.MESSAGE
    return False


def strongest(kinds: set[str]) -> str:
    return next(kind for kind in KIND_ORDER if kind in kinds)


def _default(channel: Channel) -> bool:
    if channel == "browser":
        return app_settings.NOTIFY_BROWSER_DEFAULT
    if channel == "push":
        return app_settings.NOTIFY_PUSH_DEFAULT
    return app_settings.NOTIFY_EMAIL_DEFAULT


def site_channel_on(channel: Channel) -> bool:
    """The site offers ``channel`` (the browser's needs nothing from the server)."""
    if not app_settings.NOTIFICATIONS:
        return False
    if channel == "push":
        return app_settings.NOTIFY_PUSH
    if channel == "email":
        return app_settings.NOTIFY_EMAIL
    return True


def chosen(prefs: ChatPreferences, channel: Channel) -> bool:
    """The person's choice for ``channel``, or the site's default while they have none."""
    value: bool | None = getattr(prefs, _FIELDS[channel])
    return _default(channel) if value is None else value


_FIELDS: dict[Channel, str] = {
    "browser": "browser_notifications",
    "push": "push_notifications",
    "email": "email_digests",
}


def channel_enabled(prefs: ChatPreferences, channel: Channel) -> bool:
    """Notifications go to this person through ``channel``: the site offers it and they
    have not turned it off."""
    return site_channel_on(channel) and chosen(prefs, channel)


def zone_of(prefs: ChatPreferences) -> zoneinfo.ZoneInfo:
    """The person's time zone (the site's while they have not set one)."""
    name = prefs.time_zone or settings.TIME_ZONE or "UTC"
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def is_time_zone(name: Any) -> bool:
    if not isinstance(name, str) or not name or len(name) > 64:
        return False
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def in_quiet_hours(prefs: ChatPreferences, now: datetime | None = None) -> bool:
    """``now`` falls in the person's quiet hours, read on their own clock. A span whose
    start is after its end runs over midnight (22:00-07:00); equal ends mean none."""
    start, end = prefs.quiet_hours_start, prefs.quiet_hours_end
    if start is None or end is None or start == end:
        return False
    local = (now or timezone.now()).astimezone(zone_of(prefs)).time()
    return _between(local, start, end)


def _between(moment: time, start: time, end: time) -> bool:
    if start < end:
        return start <= moment < end
    return moment >= start or moment < end


#: The kinds an e-mail digest gathers: what was meant for the person. A room set to "All
#: messages" notifies in the chat, the browser and by push, not by e-mail.
DIGEST_KINDS = frozenset(
    {
        NotificationKind.ANNOUNCEMENT,
        NotificationKind.MENTION,
        NotificationKind.REPLY,
        NotificationKind.PRIVATE,
    }
)


def digest_delay(prefs: ChatPreferences) -> timedelta:
    minutes = prefs.digest_delay or app_settings.NOTIFY_DIGEST_DELAY
    return timedelta(minutes=minutes)


def language_of(prefs: ChatPreferences) -> str:
    """The language of what is sent to this person (the site's until they choose)."""
    codes = {code for code, _name in settings.LANGUAGES}
    return prefs.language if prefs.language in codes else settings.LANGUAGE_CODE


def is_language(code: Any) -> bool:
    return code == "" or code in {known for known, _name in settings.LANGUAGES}


def shows_content(prefs: ChatPreferences, room_type: str) -> bool:
    """Whether a push notification (or a digest) carries the message's text: not for a
    private room unless the person asked for it (a lock screen shows it to anyone near)."""
    return room_type != "private" or prefs.push_private_content


def skip_reason(
    channel: Channel,
    *,
    read: bool,
    deleted: bool,
    member: bool,  # they still see the room (the policy)
    level_admits_kind: bool,
    muted: bool,
    chosen_on: bool,
    quiet: bool,
    online: bool,
) -> str | None:
    """Why a due delivery no longer goes (None: it goes). Checked when it is due, not when
    it was written: the person may have read, muted or turned the channel off meanwhile."""
    if deleted:
        return "message deleted"
    if not member:
        return "no access"
    if read:
        return "read"
    if muted:
        return "room muted"
    if not level_admits_kind:
        return "room level"
    if not chosen_on:
        return "turned off"
    if channel == "push" and quiet:
        return "quiet hours"
    if channel == "push" and online:
        return "online"
    return None
