"""The app's settings, read from one namespace: ``settings.SMARTCAMPUS_CHAT``.

Each setting is a typed attribute of :class:`ChatSettings` holding its default and its
check (as django-cors-headers' ``conf.py`` does), so ``app_settings.PAGE_SIZE`` is an
``int`` to mypy and to the code that reads it: call sites never cast. The checks run at
start-up (``manage.py check``, :mod:`smartcampus_chat.checks`), not when a value is read:
a bad value is reported by its check id instead of crashing the import. Values are
read lazily and the cache is dropped when Django's ``setting_changed`` signal fires
(``override_settings`` in tests). :data:`DEFAULTS` lists every default by name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Generic, Literal, TypeVar, overload

from django.conf import settings
from django.core.signals import setting_changed
from django.utils.module_loading import import_string

SETTINGS_NAME = "SMARTCAMPUS_CHAT"

T = TypeVar("T")
#: The problems with a setting's value (empty: the value is good).
Check = Callable[[Any], list[str]]
#: The system check function that reports a setting (smartcampus_chat.checks).
Group = Literal["settings", "api", "security"]


class Setting(Generic[T]):
    """One setting: its default, its check and the id its errors carry.

    Read on :data:`app_settings` it is the value (``T``); read on the class
    (``ChatSettings.PAGE_SIZE``) it is this object, which a caller can hold to read the
    current value later (:meth:`value`) without naming the setting in a string.
    """

    def __init__(
        self, default: T, check: Check, *, error: str = "E002", group: Group = "settings"
    ) -> None:
        self.default = default
        self.check = check
        self.error = error
        self.group = group
        self.name = ""

    def __set_name__(self, owner: type[Any], name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type[Any]) -> Setting[T]: ...

    @overload
    def __get__(self, instance: ChatSettings, owner: type[Any]) -> T: ...

    def __get__(self, instance: ChatSettings | None, owner: type[Any]) -> Setting[T] | T:
        if instance is None:
            return self
        value: T = instance.user_settings().get(self.name, self.default)
        # Cached on the instance (this is a non-data descriptor): the next read is a plain
        # attribute read; ChatSettings.reset() drops it.
        instance.__dict__[self.name] = value
        return value

    def value(self) -> T:
        """The current value, from :data:`app_settings`."""
        return self.__get__(app_settings, ChatSettings)

    def problems(self) -> list[str]:
        """What is wrong with the current value (empty when it is good)."""
        return self.check(self.value())


def _is_number(value: Any, *, integer: bool) -> bool:
    kinds = (int,) if integer else (int, float)
    return isinstance(value, kinds) and not isinstance(value, bool)


def positive_int(value: Any) -> list[str]:
    ok = _is_number(value, integer=True) and value > 0
    return [] if ok else ["must be a positive integer."]


def positive_number(value: Any) -> list[str]:
    ok = _is_number(value, integer=False) and value > 0
    return [] if ok else ["must be a positive number."]


def non_negative_number(value: Any) -> list[str]:
    ok = _is_number(value, integer=False) and value >= 0
    return [] if ok else ["must be a number >= 0."]


def count(value: Any) -> list[str]:
    ok = _is_number(value, integer=True) and value >= 0
    return [] if ok else ["must be an integer >= 0."]


def seconds_or_none(value: Any) -> list[str]:
    ok = value is None or (_is_number(value, integer=False) and value >= 0)
    return [] if ok else ["must be None or a number of seconds."]


def boolean(value: Any) -> list[str]:
    return [] if isinstance(value, bool) else ["must be True or False."]


def text(value: Any) -> list[str]:
    return [] if isinstance(value, str) and value else ["must be a non-empty string."]


def search_config(value: Any) -> list[str]:
    """A PostgreSQL text search configuration's name ("simple", "french", "pg_catalog.english")."""
    ok = isinstance(value, str) and re.fullmatch(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)?", value, re.ASCII)
    return [] if ok else ["must be a text search configuration name such as 'simple'."]


def text_or_none(value: Any) -> list[str]:
    return [] if value is None or isinstance(value, str) else ["must be a string or None."]


def model_label_or_none(value: Any) -> list[str]:
    ok = value is None or (isinstance(value, str) and value.count(".") == 1)
    return [] if ok else ['must be None or "app_label.ModelName".']


def dotted_path(value: Any) -> list[str]:
    if not isinstance(value, str):
        return ["must be a dotted path."]
    try:
        import_string(value)
    except ImportError as exc:
        return [f"cannot be imported: {exc}"]
    return []


def dotted_path_or_none(value: Any) -> list[str]:
    return [] if value is None else dotted_path(value)


def field_or_dotted_path_or_none(value: Any) -> list[str]:
    """None, a field name (no dot: checked against the model by the course checks) or the
    dotted path of a callable."""
    if isinstance(value, str) and value.isidentifier():
        return []
    return dotted_path_or_none(value)


def class_paths(value: Any) -> list[str]:
    if not isinstance(value, (list, tuple)) or not all(isinstance(p, str) for p in value):
        return ["must be a list of dotted paths."]
    problems = []
    for path in value:
        try:
            import_string(path)
        except ImportError as exc:
            problems.append(f"cannot import {path!r}: {exc}")
    return problems


def class_paths_or_none(value: Any) -> list[str]:
    return [] if value is None else class_paths(value)


def url_prefix(value: Any) -> list[str]:
    ok = (
        isinstance(value, str)
        and value.endswith("/")
        and not value.startswith("/")
        and "//" not in value
        and len(value) > 1
    )
    return [] if ok else ['must be a path such as "sockets/": no leading slash, a trailing one.']


def one_of(*choices: str | None) -> Check:
    """A check: the value is one of ``choices``."""

    def check(value: Any) -> list[str]:
        return [] if value in choices else [f"must be one of {', '.join(map(repr, choices))}."]

    return check


def domain_names(value: Any) -> list[str]:
    ok = isinstance(value, (list, tuple)) and all(
        isinstance(name, str) and name.strip(" .") for name in value
    )
    return [] if ok else ['must be a list of domain names such as ["intranet.example.edu"].']


def push_hosts(value: Any) -> list[str]:
    """Hosts such as ``"fcm.googleapis.com"``, ``"*.push.apple.com"`` or ``"127.0.0.1"``."""
    ok = isinstance(value, (list, tuple)) and all(
        isinstance(name, str)
        and re.fullmatch(r"(\*\.)?[A-Za-z0-9_.:-]+|\[[0-9A-Fa-f:.]+\]", name) is not None
        and name.strip("*.:") != ""
        for name in value
    )
    return (
        []
        if ok
        else ['must be a list of hosts such as ["fcm.googleapis.com", "*.push.apple.com"].']
    )


def tcp_ports(value: Any) -> list[str]:
    ok = (
        isinstance(value, (list, tuple, set, frozenset))
        and bool(value)
        and all(_is_number(port, integer=True) and 0 < port < 65536 for port in value)
    )
    return [] if ok else ["must be a non-empty list of TCP ports (1-65535)."]


def clamd_address(value: Any) -> list[str]:
    """``"host:port"`` (TCP) or ``"unix:/path/to/clamd.ctl"``."""
    if isinstance(value, str) and value.startswith("unix:/"):
        return []
    host, _, port = value.rpartition(":") if isinstance(value, str) else ("", "", "")
    ok = bool(host) and port.isascii() and port.isdigit() and 0 < int(port) < 65536
    return [] if ok else ['must be "host:port" or "unix:/path/to/clamd.socket".']


def word_list(value: Any) -> list[str]:
    ok = isinstance(value, (list, tuple)) and all(
        isinstance(word, str) and word.strip() for word in value
    )
    return [] if ok else ['must be a list of words or phrases such as ["spam", "buy now"].']


def word_filter_action(value: Any) -> list[str]:
    return [] if value in ("block", "hold") else ['must be "block" or "hold".']


_RATE_PERIODS = ("s", "m", "h", "d")


def _is_rate(value: Any) -> bool:
    """A DRF throttle rate: ``"<number>/<period>"`` (period: second, minute, hour, day)."""
    if value is None:
        return True
    if not isinstance(value, str) or value.count("/") != 1:
        return False
    number, period = value.split("/")
    return number.isascii() and number.isdigit() and period[:1] in _RATE_PERIODS


def rates(value: Any) -> list[str]:
    ok = isinstance(value, dict) and all(
        isinstance(scope, str) and _is_rate(rate) for scope, rate in value.items()
    )
    return [] if ok else ['must map scopes to rates like "120/minute" (or None for no limit).']


def mime_types(value: Any) -> list[str]:
    ok = (
        isinstance(value, (list, tuple))
        and bool(value)
        and all(isinstance(t, str) and re.fullmatch(r"[a-z]+/[\w.+-]+", t) for t in value)
    )
    return [] if ok else ['must be a non-empty list of MIME types such as "image/png".']


_NOTIFY_LEVELS = ("all", "mentions", "nothing")
_ROOM_TYPES = ("public", "group", "course", "private")


def notify_levels(value: Any) -> list[str]:
    """Each room type's default notification level."""
    ok = (
        isinstance(value, dict)
        and set(value) <= set(_ROOM_TYPES)
        and all(level in _NOTIFY_LEVELS for level in value.values())
    )
    return (
        []
        if ok
        else [
            "must map room types (public, group, course, private) to "
            '"all", "mentions" or "nothing".'
        ]
    )


def retention_rules(value: Any) -> list[str]:
    """Each room type's retention: ``None`` (keep forever), ``{"days": N}`` (N days after
    each message) or ``{"days_after_archive": N}`` (N days after the room is archived)."""

    def rule_ok(rule: Any) -> bool:
        if rule is None:
            return True
        if not isinstance(rule, dict) or len(rule) != 1:
            return False
        ((kind, days),) = rule.items()
        return (
            kind in ("days", "days_after_archive") and _is_number(days, integer=True) and days > 0
        )

    ok = (
        isinstance(value, dict)
        and set(value) <= set(_ROOM_TYPES)
        and all(map(rule_ok, value.values()))
    )
    return (
        []
        if ok
        else [
            "must map room types (public, group, course, private) to None, "
            '{"days": N} or {"days_after_archive": N} (N > 0).'
        ]
    )


def positive_int_or_none(value: Any) -> list[str]:
    ok = value is None or (_is_number(value, integer=True) and value > 0)
    return [] if ok else ["must be None or a positive integer."]


def absolute_url_or_none(value: Any) -> list[str]:
    ok = value is None or (
        isinstance(value, str) and re.fullmatch(r"https?://[^/\s]+", value.rstrip("/")) is not None
    )
    return [] if ok else ['must be the site\'s address such as "https://campus.example.edu".']


class ChatSettings:
    """Attribute access to the merged settings; ``app_settings.PAGE_SIZE`` and so on."""

    # Template that every chat page extends; the host can name its own site layout.
    BASE_TEMPLATE = Setting("smartcampus_chat/base.html", text)
    # The site's name at the end of tab titles ("General · SmartCampus") with the app's own
    # base template (a host's base template names its site itself); translated if it can.
    SITE_NAME = Setting("SmartCampus", text)
    # Dotted path of the access policy class (see smartcampus_chat.domain.policies.ChatPolicy).
    POLICY = Setting("smartcampus_chat.domain.policies.ChatPolicy", dotted_path, error="E003")
    # "app_label.ModelName" of the host's course model, or None when there are no courses.
    COURSE_MODEL = Setting[str | None](None, model_label_or_none, error="E004")
    # Dotted path of a callable (user, course) -> "member" | "moderator" | None.
    COURSE_ROLE_RESOLVER = Setting[str | None](None, dotted_path_or_none, error="E003")
    # Optional dotted path of a callable (user) -> {course_pk: role}; makes room lists of
    # course rooms cost a fixed number of queries. Without it the resolver is asked per course.
    COURSE_ROLES_FOR_USER = Setting[str | None](None, dotted_path_or_none, error="E003")
    # Dotted path of a callable (user) -> str: the name every door shows for a person
    # (smartcampus_chat.domain.names.display_name). The default: the full name, else the
    # username unless the login identifier is private (see EXPOSE_USERNAME).
    DISPLAY_NAME = Setting(
        "smartcampus_chat.domain.names.full_name_or_username", dotted_path, error="E003"
    )
    # Whether the login identifier (get_username(): a username, an e-mail address...) may
    # be shown: the ``username`` of user objects in frames and the API, "@handle" on
    # pages, and searching people by it. False: ``username`` is null, nobody can search or
    # see it (and the default display name never falls back to it when it is an e-mail).
    EXPOSE_USERNAME = Setting(False, boolean)
    # Whom the people directory (HTML people page, API user list) finds for a user who is
    # not staff: "shared" (people who share a room with them; course rooms count, so with
    # course rooms joined on enrolment, people of the same course), "everyone", "nobody".
    # Staff always find everyone.
    DIRECTORY_SCOPE = Setting("shared", one_of("shared", "everyone", "nobody"))
    # Course rooms (docs/integration.md, "Course rooms"): the roster hook
    # (services.enrolment_changed) creates a course's room when it has none; else rooms
    # come from `manage.py chat_sync_courses`.
    COURSE_ROOMS_ON_DEMAND = Setting(True, boolean)
    # The roster hook joins enrolled users to their course's room (else they join by hand).
    COURSE_ROOMS_AUTO_JOIN = Setting(True, boolean)
    # Terms (docs/terms.md): when a course ends, as the name of a date or datetime field of
    # COURSE_MODEL ("ends_on") or the dotted path of a callable (course) -> date | datetime
    # | None. A course room is read-only from then on (a date: from the end of that day).
    COURSE_END = Setting[str | None](None, field_or_dotted_path_or_none, error="E003")
    # Days after a course's end before `manage.py chat_sync_courses` archives its rooms.
    COURSE_GRACE_DAYS = Setting(30, count)
    # Dotted path of a callable (course) -> iterable of (user_id, role, section_keys): the
    # whole roster at once, for `chat_sync_courses` (one call per course, not per person).
    COURSE_ROSTER = Setting[str | None](None, dotted_path_or_none, error="E003")
    # Dotted path of a callable (course) -> iterable of (section_key, name): the course's
    # sections or project groups, each with its own room (None: no section rooms).
    COURSE_SECTIONS = Setting[str | None](None, dotted_path_or_none, error="E003")
    # Path prefix of the WebSocket routes, relative to the site root (the default routes
    # the user's endpoint and <prefix><slug>/): the routing, the pages' wsUrl and the
    # tickets' ws_url all read it. No leading slash, one trailing slash.
    WS_PREFIX = Setting("ws/chat/", url_prefix)
    # Staff may read (never post in) private conversations when True.
    PRIVATE_AUDIT_BY_STAFF = Setting(False, boolean)
    # Seconds after sending during which authors may edit their message; None = unlimited.
    EDIT_WINDOW = Setting[float | None](None, seconds_or_none)
    MAX_MESSAGE_LENGTH = Setting(4000, positive_int)
    # The longest timed mute or ban a moderator gives, in seconds (longer: indefinitely).
    SANCTION_MAX_SECONDS = Setting(366 * 86400, positive_int)
    # Slow mode: the longest interval a room's moderators may set, in seconds.
    SLOW_MODE_MAX_SECONDS = Setting(3600, positive_int)
    # The word filter (docs/moderation.md): words and phrases refused site-wide (each room
    # adds its own), and what happens to a message with one: "block" or "hold" for review.
    WORD_FILTER = Setting[Sequence[str]]((), word_list)
    WORD_FILTER_ACTION = Setting("block", word_filter_action)
    # Messages pinned in one room at a time.
    MAX_PINS = Setting(50, positive_int)
    # Reactions: distinct emoji on one message, and reactions on it in all.
    MAX_REACTION_EMOJI = Setting(20, positive_int)
    MAX_REACTIONS = Setting(500, positive_int)
    # Polls (docs/polls.md): options of one poll (at least 2 always; at most this many).
    POLL_MAX_OPTIONS = Setting(10, positive_int)
    # Rooms with more members than this show no read receipts ("Seen by").
    READ_RECEIPTS_MAX_MEMBERS = Setting(20, positive_int)
    # People one message may mention (@name); more is refused (too_many_mentions).
    MAX_MENTIONS = Setting(20, positive_int)
    # Who may mention every member (@everyone, @room): "moderators", "members", "nobody".
    MENTION_EVERYONE = Setting("moderators", one_of("moderators", "members", "nobody"))
    # TeX maths in messages ($…$, $$…$$) rendered as MathML; False: dollars are text.
    MATHS = Setting(True, boolean)
    # Attachments (docs/attachments.md). False: no uploads (the API answers 404, the page
    # shows no attach button); files already sent stay readable.
    ATTACHMENTS = Setting(True, boolean)
    # Bytes per file; files per message; bytes one user may upload in 24 hours.
    ATTACHMENT_MAX_BYTES = Setting(25 * 1024 * 1024, positive_int)
    ATTACHMENTS_PER_MESSAGE = Setting(10, positive_int)
    ATTACHMENT_BYTES_PER_DAY = Setting(500 * 1024 * 1024, positive_int)
    # The types accepted, as detected from the content (never the name or the client's
    # Content-Type). Raster images are re-encoded (metadata stripped) and get thumbnails.
    ATTACHMENT_TYPES = Setting[Sequence[str]](
        (
            "image/jpeg",
            "image/png",
            "image/gif",
            "image/webp",
            "image/heic",
            "application/pdf",
            "text/plain",
            "application/zip",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            "application/vnd.oasis.opendocument.text",
            "application/vnd.oasis.opendocument.spreadsheet",
            "application/vnd.oasis.opendocument.presentation",
            "audio/mpeg",
            "video/mp4",
        ),
        mime_types,
    )
    # Images with more pixels than this are refused (decompression bombs): 12 Mpx photos
    # and 8K screenshots pass.
    ATTACHMENT_MAX_PIXELS = Setting(50_000_000, positive_int)
    # The ``STORAGES`` alias files are stored in (S3 through django-storages: docs).
    ATTACHMENT_STORAGE = Setting("default", text)
    # A callable ``scan(file)`` raising InfectedFile (docs/security.md; a ClamAV one is
    # provided: infra.virus_scan.clamd_scan); None: no scan.
    ATTACHMENT_SCANNER = Setting[str | None](None, dotted_path_or_none, error="E003")
    # How files leave: "django" streams them; "x-accel-redirect" (nginx) and "x-sendfile"
    # (Apache, lighttpd) hand the path to the proxy after the access check.
    ATTACHMENT_SERVE = Setting("django", one_of("django", "x-accel-redirect", "x-sendfile"))
    # The internal location the proxy maps to the storage's root (x-accel-redirect).
    ATTACHMENT_ACCEL_PREFIX = Setting("/protected-chat-files/", text)
    # Seconds after a message's deletion (or an upload never sent) before its files leave
    # storage (manage.py chat_purge_attachments).
    ATTACHMENT_PURGE_AFTER = Setting[float](7 * 24 * 3600, positive_number)
    # Data exports (docs/data-export.md): a person's own exports per 24 hours (one being
    # prepared at a time); seconds a ready export (and its signed link) lasts before it is
    # deleted unread; the dotted path of a callable (export_id) -> None handing the build to
    # the host's task queue (None: a thread of this process; manage.py chat_exports builds
    # what is left).
    EXPORT_MAX_PER_DAY = Setting(3, positive_int)
    EXPORT_EXPIRES_AFTER = Setting[float](7 * 24 * 3600, positive_number)
    EXPORT_ENQUEUE = Setting[str | None](None, dotted_path_or_none, error="E003")
    # What erasing a person does to their messages when the caller does not say:
    # "keep" (shown under "Former member") or "delete" (soft-deleted, text and files wiped).
    ERASURE_MESSAGES = Setting("keep", one_of("keep", "delete"))
    # Retention (docs/retention.md): how long each type of room keeps its messages before
    # the purge (manage.py chat_purge_messages, services.do_purge_expired) deletes them for
    # good. A type not named keeps them forever; a room's own rule (admin) wins.
    RETENTION = Setting[Mapping[str, Mapping[str, int] | None]]({}, retention_rules)
    # Days a deleted message stays (restorable by staff) before the purge removes it; None:
    # deleted messages stay until their room's retention removes them.
    DELETED_MESSAGE_GRACE_DAYS = Setting[int | None](30, positive_int_or_none)
    # Messages deleted per transaction of the purge: its locks last one batch.
    RETENTION_BATCH_SIZE = Setting(1000, positive_int)
    MAX_ROOM_NAME_LENGTH = Setting(120, positive_int)
    MAX_DESCRIPTION_LENGTH = Setting(2000, positive_int)
    MAX_CLIENT_ID_LENGTH = Setting(64, positive_int)
    MAX_FRAME_BYTES = Setting(65536, positive_int)
    PAGE_SIZE = Setting(50, positive_int)
    MAX_PAGE_SIZE = Setting(200, positive_int)
    # Message search: PostgreSQL's text search configuration ("simple": no stemming, right
    # for mixed French and English; the GIN index is built with it, docs/search.md), the
    # longest query and the results per page (default and cap).
    SEARCH_CONFIG = Setting("simple", search_config)
    SEARCH_MAX_QUERY_LENGTH = Setting(200, positive_int)
    # Relevance order ranks the newest matches of a search, this many (docs/search.md).
    SEARCH_RANK_WINDOW = Setting(1000, positive_int)
    SEARCH_PAGE_SIZE = Setting(20, positive_int)
    SEARCH_MAX_PAGE_SIZE = Setting(50, positive_int)
    # Token bucket for sends (messages, edits, deletes) per user: burst size and refill rate.
    SEND_RATE_BURST = Setting(20, positive_int)
    SEND_RATE_PER_SECOND = Setting(2.0, positive_number)
    TYPING_RATE_BURST = Setting(5, positive_int)
    TYPING_RATE_PER_SECOND = Setting(0.5, positive_number)
    # Token buckets per user for the actions that cost the server far more than the
    # client (docs/reliability.md, "Amplification and caps"), on every door: replays
    # (``resume`` frames and ``?event_seq=`` reconnects; a token per page of up to
    # MAX_PAGE_SIZE changes sent), read-marker updates (a write and a publish), room
    # creations (private conversations included), and joins and leaves together (each a
    # broadcast to every member).
    RESUME_RATE_BURST = Setting(20, positive_int)
    RESUME_RATE_PER_SECOND = Setting(1.0, positive_number)
    SEARCH_RATE_BURST = Setting(10, positive_int)
    SEARCH_RATE_PER_SECOND = Setting(1.0, positive_number)
    READ_RATE_BURST = Setting(20, positive_int)
    READ_RATE_PER_SECOND = Setting(1.0, positive_number)
    CREATE_RATE_BURST = Setting(5, positive_int)
    CREATE_RATE_PER_SECOND = Setting(0.05, positive_number)
    MEMBERSHIP_RATE_BURST = Setting(10, positive_int)
    MEMBERSHIP_RATE_PER_SECOND = Setting(0.2, positive_number)
    # Uploads (attachments) per user, besides ATTACHMENT_BYTES_PER_DAY.
    UPLOAD_RATE_BURST = Setting(20, positive_int)
    UPLOAD_RATE_PER_SECOND = Setting(0.5, positive_number)
    # Reports of messages by one member (docs/moderation.md).
    REPORT_RATE_BURST = Setting(5, positive_int)
    REPORT_RATE_PER_SECOND = Setting(0.01, positive_number)
    # Reveals of anonymous authors by one moderator (docs/anonymous-posts.md).
    REVEAL_RATE_BURST = Setting(10, positive_int)
    REVEAL_RATE_PER_SECOND = Setting(0.01, positive_number)
    # While the cache behind the limits above (and API_THROTTLE_RATES) is unreachable:
    # False refuses the request as ``unavailable`` (503); True lets it through unmetered,
    # logged once per outage and counted (ratelimit.fail_open_counts()).
    RATE_LIMIT_FAIL_OPEN = Setting(False, boolean)
    # Open WebSockets per user, counted over every process (ChatConnection rows); one more
    # is closed with 4029 "too many connections".
    MAX_CONNECTIONS_PER_USER = Setting(30, positive_int)
    # Seconds after which a "typing started" without "stopped" expires on clients.
    TYPING_TIMEOUT = Setting(5, positive_int)
    # Presence: connections refresh every HEARTBEAT seconds and expire after TIMEOUT.
    PRESENCE_HEARTBEAT = Setting[float](15, positive_number)
    PRESENCE_TIMEOUT = Setting[float](45, positive_number)
    # Seconds over which each process gathers a room's presence changes into one frame
    # (``presence.batch``): a lecture hall filling up costs O(n) frames, not O(n^2).
    # 0: every change goes out at once, as its own ``presence`` frame.
    PRESENCE_BATCH_INTERVAL = Setting[float](0.25, non_negative_number)
    # Lifetime in seconds of the signed WebSocket tickets for non-browser clients.
    TICKET_MAX_AGE = Setting(60, positive_int)
    # Open sockets re-check their session (still there, not expired, same password) and
    # their access at least every REVALIDATE_INTERVAL seconds (the bound for what sends no
    # signal: cache-backend sessions, raw SQL; a known session expiry is checked at its
    # moment), and before a state-changing frame when their last check is older than
    # REVALIDATE_FRAME_AGE seconds.
    REVALIDATE_INTERVAL = Setting[float](60, positive_number)
    REVALIDATE_FRAME_AGE = Setting(1.0, positive_number)
    # Most changes replayed by one ``resume``; a longer backlog ends with a truncated
    # ``resumed`` frame and the client resumes again from there.
    RESUME_MAX_EVENTS = Setting(2000, positive_int)
    # Link previews (docs/security.md, "Link previews"): fetches of users' URLs go through
    # infra.safe_fetch. Hosts (and their subdomains) never fetched; the ports a URL may
    # name; seconds one fetch may take, redirects included; bytes of a page and of an
    # image; pixels of a preview image (decompression bombs).
    # Off by default: a preview makes the server fetch URLs users chose. On: the first
    # link of a sent message is previewed after commit, in a small thread pool of the
    # process, or through LINK_PREVIEW_ENQUEUE: the dotted path of a callable
    # (message_id) -> None that hands the work to the host's task queue, whose task calls
    # smartcampus_chat.services.do_fetch_preview(message_id).
    LINK_PREVIEWS = Setting(False, boolean)
    LINK_PREVIEW_ENQUEUE = Setting[str | None](None, dotted_path_or_none, error="E003")
    LINK_PREVIEW_DENY_DOMAINS = Setting[Sequence[str]]([], domain_names)
    LINK_PREVIEW_PORTS = Setting[Sequence[int]]([80, 443], tcp_ports)
    LINK_PREVIEW_TIMEOUT = Setting[float](5.0, positive_number)
    LINK_PREVIEW_MAX_PAGE_BYTES = Setting(1024 * 1024, positive_int)
    LINK_PREVIEW_MAX_IMAGE_BYTES = Setting(5 * 1024 * 1024, positive_int)
    LINK_PREVIEW_MAX_IMAGE_PIXELS = Setting(25_000_000, positive_int)
    # Notifications (docs/notifications.md). NOTIFICATIONS: the notify step and the
    # notification centre. NOTIFY_DEFAULT_LEVELS: which messages notify a member who never
    # chose, per room type ("all" in a public room of 2,000 members writes 2,000 rows per
    # message). Browser notifications, Web Push and e-mail digests are each on for a site
    # (NOTIFY_PUSH needs the VAPID keys, NOTIFY_EMAIL an e-mail backend) and then for a
    # person unless they turn them off (the *_DEFAULT values are what they get before they
    # choose). A digest gathers what stayed unread NOTIFY_DIGEST_DELAY minutes.
    NOTIFICATIONS = Setting(True, boolean)
    NOTIFY_DEFAULT_LEVELS = Setting[Mapping[str, str]](
        {"public": "mentions", "group": "mentions", "course": "mentions", "private": "all"},
        notify_levels,
    )
    NOTIFY_BROWSER_DEFAULT = Setting(True, boolean)
    NOTIFY_PUSH = Setting(False, boolean)
    NOTIFY_PUSH_DEFAULT = Setting(True, boolean)
    NOTIFY_EMAIL = Setting(False, boolean)
    NOTIFY_EMAIL_DEFAULT = Setting(True, boolean)
    NOTIFY_DIGEST_DELAY = Setting(30, positive_int)
    # Announcements (docs/announcements.md): hours before an announcement's due date when
    # the members who have not acknowledged it are reminded, once.
    ACK_REMINDER_BEFORE = Setting(24, positive_int)
    # The site's address, for the links of e-mails and push notifications (no request
    # there to read it from): "https://campus.example.edu". Needed by NOTIFY_EMAIL and
    # NOTIFY_PUSH.
    NOTIFY_SITE_URL = Setting[str | None](None, absolute_url_or_none)
    # Sender of the digests (None: DEFAULT_FROM_EMAIL).
    NOTIFY_EMAIL_FROM = Setting[str | None](None, text_or_none)
    # Web Push: the VAPID key pair (``manage.py chat_vapid_keys`` makes one: the public key
    # as the browser's applicationServerKey, base64url; the private key as PEM or raw
    # base64url) and the contact the push services may write to ("mailto:it@campus.example").
    WEB_PUSH_VAPID_PUBLIC_KEY = Setting[str | None](None, text_or_none)
    WEB_PUSH_VAPID_PRIVATE_KEY = Setting[str | None](None, text_or_none)
    WEB_PUSH_SUBJECT = Setting[str | None](None, text_or_none)
    # The push services the server may POST to: a subscription's endpoint is a URL the
    # browser chose (hostile input; an intranet address would be SSRF). An entry is a host
    # ("fcm.googleapis.com") or "*." and a domain for its subdomains; the endpoint must be
    # https on port 443. An IP literal of this machine ("127.0.0.1", for tests and
    # development) allows http and any port on it, and nothing else.
    WEB_PUSH_ALLOWED_HOSTS = Setting[Sequence[str]](
        [
            "fcm.googleapis.com",
            "updates.push.services.mozilla.com",
            "*.notify.windows.com",
            "*.push.apple.com",
        ],
        push_hosts,
    )
    # Who delivers push and e-mail, off the request and socket paths: "thread" (a worker
    # thread in each web process, woken when something is due) or None (the host runs
    # ``manage.py chat_notifications`` or calls smartcampus_chat.notifications.deliver_due
    # from its task queue: docs/notifications.md). NOTIFY_ENQUEUE: the dotted path of a
    # callable () -> None called after a notification is written, to wake the host's worker.
    NOTIFY_WORKER = Setting[str | None]("thread", one_of("thread", None))
    NOTIFY_ENQUEUE = Setting[str | None](None, dotted_path_or_none, error="E003")
    # Seconds between the worker's looks for due deliveries when nothing woke it; tries of
    # a delivery that failed (with backoff: 30 s, 2 min, 8 min...); seconds after which a
    # delivery claimed by a worker that died counts as failed (never sent twice).
    NOTIFY_POLL_INTERVAL = Setting[float](30, positive_number)
    NOTIFY_MAX_ATTEMPTS = Setting(5, positive_int)
    NOTIFY_LEASE = Setting(300, positive_int)
    # The ClamAV scanner ("smartcampus_chat.infra.virus_scan.clamd_scan" as
    # ATTACHMENT_SCANNER) asks the clamd at ATTACHMENT_CLAMD_ADDRESS ("host:port" or
    # "unix:/path"), waiting at most ATTACHMENT_CLAMD_TIMEOUT seconds at each step.
    ATTACHMENT_CLAMD_ADDRESS = Setting("127.0.0.1:3310", clamd_address)
    ATTACHMENT_CLAMD_TIMEOUT = Setting[float](30.0, positive_number)
    # Security headers on the chat pages (smartcampus_chat.web.security): False turns them all
    # off. "{nonce}" in the policy is replaced by the request's nonce (request.csp_nonce).
    # connect-src must allow the page's own WebSocket: 'self' covers same-origin ws: and wss:
    # (CSP Level 3: current Chromium, Firefox and Safari). Bare ws: wss: would allow a
    # socket to any host (exfiltration by an injected script); a WebSocket on another
    # host is added by name (wss://chat.campus.example).
    SECURITY_HEADERS = Setting(True, boolean, error="E040", group="security")
    CONTENT_SECURITY_POLICY = Setting[str | None](
        "default-src 'self'; script-src 'self' 'nonce-{nonce}'; "
        "style-src 'self' 'nonce-{nonce}'; img-src 'self' data: blob:; font-src 'self'; "
        "connect-src 'self'; object-src 'none'; base-uri 'self'; "
        "form-action 'self'; frame-ancestors 'none'",
        text_or_none,
        error="E040",
        group="security",
    )
    REFERRER_POLICY = Setting[str | None](
        "same-origin", text_or_none, error="E040", group="security"
    )
    FRAME_OPTIONS = Setting[str | None]("DENY", text_or_none, error="E040", group="security")
    # Frames a socket may have waiting to be written (fan-out hub); over it the socket is
    # closed with 4008 "too slow; resume" and the client resumes by event_seq.
    SEND_QUEUE_MAX_FRAMES = Setting(1000, positive_int)
    # Group commit of WebSocket sends: concurrent message.send frames of a process are
    # stored together in one transaction; at most this many per transaction (0 or 1: off).
    SEND_BATCH_MAX = Setting(200, count)
    # One socket's message.send frames stored without waiting for each other's commit (they
    # join the group commit together): at most this many unanswered per socket, beyond which
    # the socket reads no frame until one is answered. 1: one at a time.
    SEND_PIPELINE_DEPTH = Setting(64, positive_int)
    # Channel layer alias the app publishes on.
    CHANNEL_LAYER = Setting("default", text)
    # REST API (``smartcampus_chat.api``). These never read the host's REST_FRAMEWORK setting.
    # Dotted paths of DRF authentication classes; None: token authentication when
    # ``rest_framework.authtoken`` is installed, then session authentication (CSRF enforced).
    API_AUTHENTICATION_CLASSES = Setting[Sequence[str] | None](
        None, class_paths_or_none, error="E020", group="api"
    )
    # Dotted paths of DRF permission classes every endpoint requires (the policy does the rest).
    API_PERMISSION_CLASSES = Setting[Sequence[str]](
        ["rest_framework.permissions.IsAuthenticated"], class_paths, error="E020", group="api"
    )
    # Dotted paths of DRF throttle classes, and the rates of the app's scopes ("read" for
    # GET requests, "write" for the others): "<number>/<second|minute|hour|day>" or None.
    API_THROTTLE_CLASSES = Setting[Sequence[str]](
        [
            "smartcampus_chat.api.throttling.ReadRateThrottle",
            "smartcampus_chat.api.throttling.WriteRateThrottle",
        ],
        class_paths,
        error="E020",
        group="api",
    )
    API_THROTTLE_RATES = Setting[Mapping[str, str | None]](
        {"read": "600/minute", "write": "120/minute"}, rates, error="E022", group="api"
    )
    # Dotted paths of DRF permission classes of the OpenAPI schema and docs pages.
    API_SCHEMA_PERMISSION_CLASSES = Setting[Sequence[str]](
        ["rest_framework.permissions.AllowAny"], class_paths, error="E020", group="api"
    )

    def user_settings(self) -> dict[str, Any]:
        """The host's ``SMARTCAMPUS_CHAT`` (an empty dict when it is not a dict: check E001)."""
        cached = self.__dict__.get("_user")
        if cached is None:
            value = getattr(settings, SETTINGS_NAME, {})
            cached = self.__dict__["_user"] = value if isinstance(value, dict) else {}
        return cached

    def load(self, setting: Setting[str] | Setting[str | None]) -> Any:
        """Import the dotted path held by ``setting`` (None stays None)."""
        path = setting.value()
        return None if path is None else import_string(path)

    def reset(self) -> None:
        self.__dict__.clear()


#: Every setting by name, in declaration order: the table the system checks walk.
SETTINGS: dict[str, Setting[Any]] = {
    name: value for name, value in vars(ChatSettings).items() if isinstance(value, Setting)
}
DEFAULTS: dict[str, Any] = {name: setting.default for name, setting in SETTINGS.items()}

app_settings = ChatSettings()


def _reset(*, setting: str, **kwargs: Any) -> None:
    if setting == SETTINGS_NAME:
        app_settings.reset()


setting_changed.connect(_reset)
