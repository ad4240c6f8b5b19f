"""The HTML pages' view models: what a page shows and what its viewer may do there,
decided by the policy here rather than in the views (:mod:`smartcampus_chat.web.views`
parse the request, call one of these, render)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from smartcampus_chat.conf import app_settings
from smartcampus_chat.domain import courses
from smartcampus_chat.domain.announcements import is_overdue
from smartcampus_chat.domain.policies import RoomAccess, get_policy, is_current
from smartcampus_chat.exceptions import PermissionDenied
from smartcampus_chat.identity import display_name
from smartcampus_chat.markup import mentions_user, plain_text
from smartcampus_chat.models import ChatMessage, ChatParticipant, ChatRoom, Role, RoomType
from smartcampus_chat.protocol.payloads import (
    AttachmentData,
    PollData,
    PollOptionData,
    ReplyData,
)
from smartcampus_chat.protocol.render import (
    attachment_data,
    attachments_data,
    excerpt,
    message_poll_data,
    reactions_by_emoji,
    reply_data,
    visible_content,
    visible_html,
)
from smartcampus_chat.queries.announcements import (
    AckStatus,
    pending_announcements,
    room_ack_statuses,
)
from smartcampus_chat.queries.attachments import room_attachments
from smartcampus_chat.queries.history import HistoryPage, history
from smartcampus_chat.queries.members import participants
from smartcampus_chat.queries.notifications import RoomNotify, room_notify
from smartcampus_chat.queries.people import PEOPLE_LIMIT, search_people
from smartcampus_chat.queries.pins import pinned_messages
from smartcampus_chat.queries.polls import with_my_votes
from smartcampus_chat.queries.receipts import Receipt, place_receipts, read_receipts
from smartcampus_chat.queries.rooms import joinable_rooms, room_for, with_titles
from smartcampus_chat.queries.sanctions import Sanction, room_bans
from smartcampus_chat.queries.sidebar import Sidebar, sidebar


@dataclass(frozen=True)
class RoomListPage:
    """The shell without an open room: the sidebar (the user's rooms, :func:`sidebar`) and,
    in the main pane, the rooms they may join, each with its ``title`` for this user
    (:func:`with_titles`). ``sidebar`` is None for the pane fragment (``?pane=1``), which
    the client swaps in beside the sidebar it already shows."""

    sidebar: Sidebar | None
    joinable_rooms: list[ChatRoom]
    search: str
    #: Whether "create a room" is offered: the policy lets the user create some room.
    can_create_room: bool


def room_list_page(user: Any, search: str, *, with_sidebar: bool = True) -> RoomListPage:
    return RoomListPage(
        sidebar(user, search) if with_sidebar else None,
        with_titles(user, joinable_rooms(user, search)),
        search,
        can_create_room=get_policy().can_create_rooms(user),
    )


@dataclass(frozen=True)
class ReactionChip:
    """One emoji under a message on the page: its count, whether the viewer is among
    those who reacted, and their names (the chip's tooltip)."""

    emoji: str
    count: int
    mine: bool
    names: str


def reaction_chips(message: ChatMessage, viewer_id: Any) -> list[ReactionChip]:
    """The chips of ``message`` (its ``reaction_rows``, loaded by ``shown()``)."""
    return [
        ReactionChip(
            emoji,
            len(rows),
            any(row.user_id == viewer_id for row in rows),
            ", ".join(display_name(row.user) for row in rows),
        )
        for emoji, rows in reactions_by_emoji(message).items()
    ]


@dataclass(frozen=True)
class MessageRow:
    """A message with what the viewer may do to it, decided once by the policy."""

    message: ChatMessage
    #: What the viewer may read of it (:func:`~smartcampus_chat.protocol.render.visible_content`).
    content: str | None
    #: ``content`` as rendered when written
    #: (:func:`~smartcampus_chat.protocol.render.visible_html`).
    html: str | None
    #: The quote of the message it replies to (None: not a reply).
    reply: ReplyData | None
    reactions: list[ReactionChip]
    #: Its files, in order (none once deleted, as ``content``).
    attachments: list[AttachmentData]
    #: Its text without markup: the alt text of its images (else their names).
    caption: str
    #: Who is shown as having seen it ("Seen by": :func:`.receipts.place_receipts`).
    seen_by: list[str]
    #: Whether it mentions the viewer (or everyone): highlighted.
    mentions_me: bool
    can_edit: bool
    can_delete: bool
    #: Its poll as the viewer reads it (None: not a poll, or deleted).
    poll: PollView | None = None


@dataclass(frozen=True)
class PollOptionView:
    """One answer of a poll on the page: its share of the voters, as a whole percent."""

    data: PollOptionData
    percent: int
    mine: bool
    #: Who chose it, by name (empty in an anonymous poll).
    names: str = ""


@dataclass(frozen=True)
class PollView:
    """A poll on the page (``templates/.../includes/poll.html``): the state, what the
    viewer may do, and the JSON js/chat/polls.js starts from."""

    data: PollData
    options: list[PollOptionView]
    json: str
    can_vote: bool
    can_close: bool


def poll_view(
    message: ChatMessage, room: ChatRoom, user: Any, access: RoomAccess
) -> PollView | None:
    """The poll of ``message`` (in ``room``) for ``user`` (its ``my_poll_votes`` bound:
    with_my_votes)."""
    data = message_poll_data(message)
    if data is None:
        return None
    policy = get_policy()
    mine = set(data.my_votes or [])
    return PollView(
        data=data,
        options=[
            PollOptionView(
                option,
                percent=round(100 * option.votes / data.voters) if data.voters else 0,
                mine=option.id in mine,
                names=", ".join(voter.name for voter in option.voters),
            )
            for option in data.options
        ],
        json=data.model_dump_json(),
        can_vote=not data.closed and policy.can_vote(user, access, room),
        can_close=not data.closed and policy.can_close_poll(user, access, room, message.sender_id),
    )


@dataclass(frozen=True)
class PendingAnnouncement:
    """An announcement the viewer is asked to acknowledge and has not: pinned at the top
    of the room until they do. ``html``: its sanitised content."""

    message: ChatMessage
    html: str
    overdue: bool


@dataclass(frozen=True)
class PinnedRow:
    """A pinned message in the room's "Pinned" panel: the start of its text."""

    message: ChatMessage
    excerpt: str


@dataclass(frozen=True)
class RoomPage:
    """A room's page: one page of history and what the viewer may do there; ``room.title``
    is what the viewer calls the room (:func:`with_titles`)."""

    room: ChatRoom
    access: RoomAccess
    course: Any
    page: HistoryPage
    rows: list[MessageRow]
    participants: list[ChatParticipant]
    joined: bool
    can_join: bool
    can_leave: bool
    can_manage: bool
    #: Whether "create a room" is offered (as on the room list).
    can_create_room: bool
    #: The newest message shown when the viewer is a participant who has not read it, on
    #: the latest page: what the page's "mark as read" form sends (the page itself never
    #: moves the marker: a GET changes nothing). None: nothing to mark.
    unread_seq: int | None
    #: The viewer's read marker as the page was loaded (None: not a participant): where
    #: the "new messages" divider goes.
    last_read_seq: int | None
    #: The shell's room sidebar; None for the conversation pane alone (``?pane=1``).
    sidebar: Sidebar | None = None
    #: The room's pinned messages, newest pin first, each with its quote's text.
    pinned: list[PinnedRow] | None = None
    #: The others' read markers shown to the viewer (None: no receipts here).
    receipts: list[Receipt] | None = None
    #: The viewer's notification setting for the room (None: not a member, or the site
    #: turned notifications off).
    notify: RoomNotify | None = None
    #: The "Office hours" panel (docs/office-hours.md): for the room's teachers (who hold
    #: them anywhere but a private conversation) and a course room's members.
    office_hours_shown: bool = False
    office_hours_teacher: bool = False
    #: The announcements the viewer still has to acknowledge, oldest first.
    announcements: list[PendingAnnouncement] | None = None
    #: The moderators' "Acknowledgements" panel (None: not theirs to see).
    acks: list[AckStatus] | None = None
    #: Whether the composer offers "post as an announcement".
    can_announce: bool = False
    #: Whether the viewer is asked to acknowledge the room's announcements.
    must_acknowledge: bool = False
    #: Whether the composer offers "post anonymously to classmates", and whether the
    #: viewer may reveal an anonymous post's author (docs/anonymous-posts.md).
    can_post_anonymously: bool = False
    can_reveal: bool = False
    #: Whether the composer offers "Create poll", and whether the viewer votes.
    can_create_poll: bool = False
    can_vote: bool = False


def room_page(
    user: Any,
    slug: str,
    *,
    before: int | None,
    after: int | None,
    with_sidebar: bool = True,
) -> RoomPage:
    """The page of room ``slug`` (NotFound when hidden); ``before`` wins over ``after``.
    The sidebar is read after the access decision: a hidden room costs no sidebar."""
    room, access = room_for(user, slug)
    with_titles(user, [room])
    if before is not None:
        after = None  # Both given: "before" wins, as the page's own links expect.
    page = history(room, before=before, after=after)
    members = list(participants(room))
    mine = next((p for p in members if p.user_id == user.pk), None)
    newest = page.messages[-1].seq if page.messages and not page.has_after else None
    policy = get_policy()
    receipts = read_receipts(room, user)
    seen_by = place_receipts(page.messages, receipts)
    with_my_votes(page.messages, user)
    rows = [
        MessageRow(
            message,
            content=visible_content(message),
            html=visible_html(message),
            reply=reply_data(message.reply_to) if message.reply_to_id is not None else None,
            reactions=reaction_chips(message, user.pk),
            attachments=attachments_data(message),
            caption=plain_text(visible_html(message) or ""),
            seen_by=[display_name(reader) for reader in seen_by.get(message.pk, [])],
            mentions_me=not message.is_deleted and mentions_user(message.content_html, user.pk),
            can_edit=policy.can_edit_message(user, access, message),
            can_delete=policy.can_delete_message(user, access, message),
            poll=poll_view(message, room, user, access),
        )
        for message in page.messages
    ]
    joined = mine is not None
    teacher = policy.can_hold_office_hours(access, room)
    return RoomPage(
        room=room,
        access=access,
        course=courses.room_course(room),
        page=page,
        rows=rows,
        participants=members,
        joined=joined,
        can_join=not joined and policy.can_join(access, room),
        can_leave=joined and policy.can_leave(room),
        can_manage=policy.can_manage_room(access, room),
        can_create_room=policy.can_create_rooms(user),
        unread_seq=(
            newest
            if mine is not None and newest is not None and newest > mine.last_read_seq
            else None
        ),
        last_read_seq=None if mine is None else mine.last_read_seq,
        sidebar=sidebar(user) if with_sidebar else None,
        pinned=[PinnedRow(m, excerpt(m.content_html)) for m in pinned_messages(room)],
        receipts=receipts,
        notify=(
            room_notify(mine, room) if mine is not None and app_settings.NOTIFICATIONS else None
        ),
        office_hours_shown=teacher
        or (room.room_type == RoomType.COURSE and policy.can_queue_for_office_hours(access, room)),
        office_hours_teacher=teacher,
        announcements=[
            PendingAnnouncement(m, visible_html(m) or "", is_overdue(m.ack_due))
            for m in pending_announcements(user, room, access)
        ],
        acks=room_ack_statuses(room) if policy.can_see_acks(user, access, room) else None,
        can_announce=policy.can_announce(user, access, room),
        can_create_poll=policy.can_create_poll(user, access, room),
        can_vote=policy.can_vote(user, access, room),
        must_acknowledge=policy.must_acknowledge(user, access),
        can_post_anonymously=policy.can_post_anonymously(user, access, room),
        can_reveal=room.allow_anonymous and policy.can_reveal_author(user, access, room),
    )


@dataclass(frozen=True)
class RoomFile:
    """A file on a room's files page: the file, the message that sent it (its caption is
    an image's alt text) and who sent it."""

    attachment: AttachmentData
    message: ChatMessage
    caption: str


@dataclass(frozen=True)
class RoomFilesPage:
    """A room's files (``room/<slug>/files/``), newest first: its images (a grid) and its
    other files (a list) of one page; ``kind`` the filter ("image", "file" or None: both),
    ``before`` the cursor of the next page (None: the last)."""

    room: ChatRoom
    kind: str | None
    images: list[RoomFile]
    files: list[RoomFile]
    before: int | None


#: Files a page of the files page lists.
FILES_PAGE_SIZE = 60


def room_files_page(
    user: Any, slug: str, *, kind: str | None = None, before: int | None = None
) -> RoomFilesPage:
    """The files page of room ``slug`` for ``user`` (NotFound when the room is hidden from
    them). Queries: the room and the access (:func:`room_for`), then one for the page,
    whatever the number of files."""
    room, _access = room_for(user, slug)
    with_titles(user, [room])
    kind = kind if kind in ("image", "file") else None
    found = room_attachments(room, kind=kind, before=before, limit=FILES_PAGE_SIZE)
    rows = [
        RoomFile(
            attachment_data(row),
            row.message,
            plain_text(visible_html(row.message) or ""),
        )
        for row in found.attachments
        if row.message is not None
    ]
    return RoomFilesPage(
        room=room,
        kind=kind,
        images=[row for row in rows if row.attachment.kind == "image"],
        files=[row for row in rows if row.attachment.kind != "image"],
        before=found.before,
    )


@dataclass(frozen=True)
class MemberRow:
    participant: ChatParticipant
    can_remove: bool
    #: The viewer may mute or ban this member.
    can_sanction: bool = False
    #: The roles the viewer may give this member (none: no role form).
    roles: tuple[tuple[str, str], ...] = ()
    #: The member is muted until then (None: not muted).
    muted_until: datetime | None = None


@dataclass(frozen=True)
class RoomSettingsPage:
    """A room's settings page, for those who may manage the room (else PermissionDenied):
    its members with what the viewer may do to each, and the bans in force."""

    room: ChatRoom
    access: RoomAccess
    members: list[MemberRow]
    bans: list[Sanction]


def room_settings_page(user: Any, slug: str) -> RoomSettingsPage:
    room, access = room_for(user, slug)
    policy = get_policy()
    if not policy.can_manage_room(access, room):
        raise PermissionDenied()
    members = [
        # The row's role stands in for the full access check, which the service repeats.
        MemberRow(
            p,
            can_remove=policy.can_remove_user(user, access, room, p.user, p.role),
            can_sanction=policy.can_sanction(user, access, room, p.user, p.role),
            roles=tuple(
                (value, str(label))
                for value, label in Role.choices
                if value != p.role
                and policy.can_set_role(user, access, room, p.user, p.role, value)
            ),
            muted_until=p.silenced_until if is_current(p.silenced_until) else None,
        )
        for p in participants(room)
    ]
    return RoomSettingsPage(room, access, members, room_bans(room, access))


@dataclass(frozen=True)
class RoomCreateChoices:
    """What the room creation form offers, as the policy decides it: the room types the
    user may create, the groups and the courses to pick from (courses None: course rooms
    are off)."""

    room_types: list[str]
    groups: QuerySet[Any]
    courses: QuerySet[Any] | None


def room_create_choices(user: Any) -> RoomCreateChoices:
    """The policy's creatable types, groups and courses for ``user`` (the service asks the
    policy again on submission); PermissionDenied when they may create nothing."""
    policy = get_policy()
    room_types = policy.creatable_room_types(user)
    if not room_types:
        raise PermissionDenied(_("You may not create rooms."))
    taught = policy.creatable_courses(user)
    return RoomCreateChoices(
        room_types=room_types,
        groups=policy.creatable_groups(user).order_by("name"),
        courses=taught,
    )


@dataclass(frozen=True)
class PeoplePage:
    """One page of a people search (``PEOPLE_LIMIT`` a page): the page's number and
    whether there are pages before and after it."""

    search: str
    people: list[Any]
    page: int
    has_previous: bool
    has_next: bool


def people_page(user: Any, search: str, page: int = 1) -> PeoplePage:
    """Page ``page`` (from 1) of :func:`search_people`; one query (one row more than a page
    says whether another follows)."""
    found = search_people(user, search, limit=PEOPLE_LIMIT + 1, offset=(page - 1) * PEOPLE_LIMIT)
    return PeoplePage(
        search=search,
        people=found[:PEOPLE_LIMIT],
        page=page,
        has_previous=page > 1,
        has_next=len(found) > PEOPLE_LIMIT,
    )
