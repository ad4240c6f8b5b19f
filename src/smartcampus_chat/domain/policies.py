"""Who may see, join, post, edit, delete and manage: one place, used by every door.

The host can replace the policy with ``SMARTCAMPUS_CHAT["POLICY"]`` (a subclass of
:class:`ChatPolicy`), and says who belongs to a course with ``COURSE_ROLE_RESOLVER``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from django.contrib.auth.models import Group
from django.core.signals import setting_changed
from django.db.models import Q, QuerySet
from django.utils import timezone

from smartcampus_chat.conf import SETTINGS_NAME, ChatSettings, app_settings
from smartcampus_chat.domain import courses, terms
from smartcampus_chat.models import (
    ChatAttachment,
    ChatMessage,
    ChatParticipant,
    ChatRoom,
    Role,
    RoomType,
)

_MISSING: Any = object()
_RANK: dict[str | None, int] = {
    None: 0,
    Role.READ_ONLY: 1,
    Role.MEMBER: 2,
    Role.MODERATOR: 3,
    Role.OWNER: 4,
}
#: The roles that let a person into a room.
_ROLES = frozenset({Role.MEMBER, Role.MODERATOR, Role.OWNER})
_MODERATORS = frozenset({Role.MODERATOR, Role.OWNER})


def _higher(a: str | None, b: str | None) -> str | None:
    return a if _RANK.get(a, 0) >= _RANK.get(b, 0) else b


def is_current(until: datetime | None) -> bool:
    """Whether a sanction ending at ``until`` still holds (None: it does not exist).

    Sanctions end by themselves: every check compares with the clock, so no job has to
    lift them."""
    return until is not None and until > timezone.now()


def banned_now() -> Q:
    """:func:`is_banned_now` as a filter on participant rows."""
    return Q(is_banned=True) & (Q(banned_until__isnull=True) | Q(banned_until__gt=timezone.now()))


def is_banned_now(participant: ChatParticipant | None) -> bool:
    """A removal or a ban still in force (``banned_until`` None: indefinitely)."""
    if participant is None or not participant.is_banned:
        return False
    return participant.banned_until is None or is_current(participant.banned_until)


@dataclass(frozen=True)
class RoomAccess:
    """What one user may do in one room, decided once and asked many times.

    ``muted_until``: a moderator's mute (the user reads but neither posts nor reacts until
    then); ``locked``: the room is in announcement mode (only moderators post);
    ``ends_at``: when the room's course ends (read-only for everyone from then on). Mutes
    and ends are read against the clock at each use, so a cached access lifts a mute at its
    end and closes a course room at the course's.
    """

    role: str | None = None
    read_only: bool = False
    archived: bool = False
    muted_until: datetime | None = None
    locked: bool = False
    ends_at: datetime | None = None

    @property
    def can_see(self) -> bool:
        return self.role is not None or self.read_only

    @property
    def can_participate(self) -> bool:
        """A member of a room still open: joins, leaves, deletes their own messages."""
        return self.role is not None and self.role != Role.READ_ONLY and not self.archived

    @property
    def is_muted(self) -> bool:
        return is_current(self.muted_until)

    @property
    def ended(self) -> bool:
        """The room's course has ended: nobody posts or reacts any more (docs/terms.md)."""
        return terms.has_ended(self.ends_at)

    @property
    def can_react(self) -> bool:
        return self.can_participate and not self.is_muted and not self.ended

    @property
    def can_post(self) -> bool:
        if not self.can_react:
            return False
        return not self.locked or self.role in _MODERATORS

    @property
    def can_moderate(self) -> bool:
        return self.role in _MODERATORS and not self.archived

    @property
    def can_manage(self) -> bool:
        return self.role in (Role.MODERATOR, Role.OWNER)


NO_ACCESS = RoomAccess()


def is_active_user(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


class ChatPolicy:
    """The default rules (see docs/integration.md, "Access rules")."""

    def access(
        self, user: Any, room: ChatRoom, participant: ChatParticipant | None = _MISSING
    ) -> RoomAccess:
        if not is_active_user(user):
            return NO_ACCESS
        if participant is _MISSING:
            participant = ChatParticipant.objects.filter(room=room, user=user).first()
        if is_banned_now(participant):
            return NO_ACCESS
        own_role = participant.role if participant is not None else None
        role = self.base_role(user, room)
        if room.room_type == RoomType.PRIVATE:
            if role is None and app_settings.PRIVATE_AUDIT_BY_STAFF and user.is_staff:
                return RoomAccess(read_only=True, archived=room.is_archived)
            return RoomAccess(role=role, archived=room.is_archived)
        if role is None:
            return NO_ACCESS
        if room.section_key is not None and own_role is None and role not in _MODERATORS:
            # A section's room: its members are the ones the roster put there.
            return NO_ACCESS
        if own_role == Role.READ_ONLY and role not in _MODERATORS:
            # Made read-only by a moderator: lower than what the room type gives.
            role = Role.READ_ONLY
        else:
            role = _higher(role, own_role)
        muted = participant.silenced_until if participant is not None else None
        return RoomAccess(
            role=role,
            archived=room.is_archived,
            muted_until=muted if is_current(muted) else None,
            locked=room.is_locked,
            ends_at=room.ends_at,
        )

    def base_role(self, user: Any, room: ChatRoom) -> str | None:
        """The role ``user`` has in ``room`` before their participant row is considered."""
        if room.room_type == RoomType.PRIVATE:
            low, _, high = (room.private_key or "").partition(":")
            return Role.MEMBER if str(user.pk) in (low, high) else None
        staff_role = Role.MODERATOR if user.is_staff else None
        if room.room_type == RoomType.PUBLIC:
            return _higher(Role.MEMBER, staff_role)
        if room.room_type == RoomType.GROUP:
            in_group = room.group_id is not None and user.groups.filter(pk=room.group_id).exists()
            return _higher(Role.MEMBER if in_group else None, staff_role)
        if room.room_type == RoomType.COURSE:
            role = courses.course_role(user, courses.room_course(room))
            return _higher(role if role in _RANK else None, staff_role)
        return None

    def who_sees(self, room: ChatRoom, users: Iterable[Any]) -> set[int]:
        """The ids of ``users`` who may see ``room`` (removed members aside: the caller
        knows them from the rows it read), the rule of :meth:`base_role` for many people
        at once: no query for a public or private room, one for a group room, the host's
        course resolver once per person for a course room."""
        people = [user for user in users if is_active_user(user)]
        if room.room_type == RoomType.PRIVATE:
            low, _, high = (room.private_key or "").partition(":")
            return {user.pk for user in people if str(user.pk) in (low, high)}
        if room.room_type == RoomType.PUBLIC:
            return {user.pk for user in people}
        staff = {user.pk for user in people if user.is_staff}
        others = [user for user in people if not user.is_staff]
        if room.room_type == RoomType.GROUP and room.group_id is not None and others:
            through = Group.user_set.through
            rows = through.objects.filter(
                group_id=room.group_id, user_id__in=[user.pk for user in others]
            ).values_list("user_id", flat=True)
            return staff | set(rows)
        if room.room_type == RoomType.COURSE and others:
            course = courses.room_course(room)
            roles = {user.pk: courses.course_role(user, course) for user in others}
            if room.section_key is not None:
                # A section's room: the course's moderators, and the members put there.
                listed = set(
                    ChatParticipant.objects.filter(
                        room=room, user_id__in=list(roles), is_banned=False
                    ).values_list("user_id", flat=True)
                )
                return staff | {
                    pk for pk, role in roles.items() if role in _MODERATORS or pk in listed
                }
            return staff | {pk for pk, role in roles.items() if role in _ROLES}
        return staff

    def visible_rooms(self, user: Any, queryset: QuerySet[ChatRoom]) -> QuerySet[ChatRoom]:
        """Filter ``queryset`` to the rooms ``user`` may see, in a fixed number of queries."""
        if not is_active_user(user):
            return queryset.none()
        private = Q(room_type=RoomType.PRIVATE)
        mine = Q(private_key__startswith=f"{user.pk}:") | Q(private_key__endswith=f":{user.pk}")
        if app_settings.PRIVATE_AUDIT_BY_STAFF and user.is_staff:
            mine = Q()
        if user.is_staff:
            allowed = ~private | (private & mine)
        else:
            groups = list(user.groups.values_list("pk", flat=True))
            course_roles = courses.course_roles_for_user(user)
            taught = [key for key, role in course_roles.items() if role in _MODERATORS]
            # Section rooms: all of a course's for its moderators, else the ones joined.
            sections = ChatParticipant.objects.filter(user=user, is_banned=False).values("room_id")
            allowed = (
                Q(room_type=RoomType.PUBLIC)
                | Q(room_type=RoomType.GROUP, group__in=groups)
                | Q(room_type=RoomType.COURSE, course_key__in=taught)
                | Q(
                    Q(section_key__isnull=True) | Q(pk__in=sections),
                    room_type=RoomType.COURSE,
                    course_key__in=list(course_roles),
                )
                | (private & mine)
            )
        banned = ChatParticipant.objects.filter(banned_now(), user=user).values("room_id")
        return queryset.filter(allowed).exclude(pk__in=banned)

    def can_join(self, access: RoomAccess, room: ChatRoom) -> bool:
        return access.can_participate and room.room_type != RoomType.PRIVATE

    def can_leave(self, room: ChatRoom) -> bool:
        """Members may leave any room but a private conversation (it is the pair itself)."""
        return room.room_type != RoomType.PRIVATE

    def can_edit_message(self, user: Any, access: RoomAccess, message: ChatMessage) -> bool:
        if not access.can_post or message.is_deleted or message.sender_id != user.pk:
            return False
        window = app_settings.EDIT_WINDOW
        if window is None:
            return True
        return timezone.now() - message.created_at <= timedelta(seconds=window)

    def can_delete_message(self, user: Any, access: RoomAccess, message: ChatMessage) -> bool:
        """Authors delete their own messages (muted or not: taking words back never
        harms), moderators anyone's."""
        if message.is_deleted:
            return False
        if access.can_moderate:
            return True
        return access.can_participate and message.sender_id == user.pk

    def can_remove_link_preview(self, user: Any, access: RoomAccess, message: ChatMessage) -> bool:
        """The author of a message still there removes its link preview (a moderator
        deletes the message instead)."""
        return access.can_post and not message.is_deleted and message.sender_id == user.pk

    def can_mention_everyone(self, access: RoomAccess, room: ChatRoom) -> bool:
        """``@everyone``/``@room`` (``MENTION_EVERYONE``: moderators by default; never in a
        private conversation, where it would only repeat the other person's name)."""
        if room.room_type == RoomType.PRIVATE or not access.can_post:
            return False
        rule = app_settings.MENTION_EVERYONE
        return rule == "members" or (rule == "moderators" and access.can_moderate)

    def receipts_apply(self, room: ChatRoom, member_count: int) -> bool:
        """Whether "Seen by" is shown in ``room`` (of ``member_count`` members): its setting
        is on and it has at most ``READ_RECEIPTS_MAX_MEMBERS`` members."""
        return room.read_receipts and member_count <= app_settings.READ_RECEIPTS_MAX_MEMBERS

    def can_announce(self, user: Any, access: RoomAccess, room: ChatRoom) -> bool:
        """Post an announcement (docs/announcements.md): the room's moderators (staff
        moderate every room they see) who may post; never in a private conversation."""
        return room.room_type != RoomType.PRIVATE and access.can_post and access.can_moderate

    def can_post_anonymously(self, user: Any, access: RoomAccess, room: ChatRoom) -> bool:
        """Post anonymously to classmates (docs/anonymous-posts.md): a member who may post,
        in a room that allows it. Never the room's moderators nor site staff: a teacher's
        post is not anonymous; never in a private conversation (the other person knows)."""
        if room.room_type == RoomType.PRIVATE or not room.allow_anonymous:
            return False
        if not access.can_post or access.can_moderate:
            return False
        return is_active_user(user) and not user.is_staff

    def can_reveal_author(self, user: Any, access: RoomAccess, room: ChatRoom) -> bool:
        """Reveal who wrote an anonymous message (audit-logged): the room's moderators
        (teachers, TAs), and site staff in every room they see."""
        if not is_active_user(user):
            return False
        if access.can_moderate:
            return True
        return access.can_see and bool(user.is_staff)

    def can_create_poll(self, user: Any, access: RoomAccess, room: ChatRoom) -> bool:
        """Post a poll (docs/polls.md): whoever may post there, when they moderate the
        room or the room lets its members (``members_can_create_polls``)."""
        return access.can_post and (access.can_moderate or room.members_can_create_polls)

    def can_vote(self, user: Any, access: RoomAccess, room: ChatRoom) -> bool:
        """Vote in a poll, change or withdraw the vote: whoever may react (not a muted or
        read-only member, not once the room is archived or its course ended)."""
        return access.can_react

    def can_close_poll(
        self, user: Any, access: RoomAccess, room: ChatRoom, author_id: int | None
    ) -> bool:
        """Close a poll before its time: its author while a member, or a moderator."""
        if access.can_moderate:
            return True
        return access.can_participate and author_id is not None and author_id == user.pk

    def can_see_acks(self, user: Any, access: RoomAccess, room: ChatRoom) -> bool:
        """Who acknowledged an announcement, who has not: the room's moderators, and staff
        in every room they see. Members never learn who else acknowledged."""
        if access.can_moderate:
            return True
        return access.can_see and is_active_user(user) and bool(user.is_staff)

    def must_acknowledge(self, user: Any, access: RoomAccess) -> bool:
        """Whether ``user`` is asked to acknowledge the room's announcements: the members
        who read it (member, read-only), not its moderators nor staff. The query of who
        is asked (``queries.announcements.audience``) follows the same rule."""
        if not is_active_user(user) or user.is_staff:
            return False
        return access.role in (Role.MEMBER, Role.READ_ONLY)

    def can_set_qa_mode(self, access: RoomAccess, room: ChatRoom) -> bool:
        """Switch a room's Q&A mode (docs/questions.md): whoever manages the room (its
        owner and moderators, staff), never in a private conversation."""
        return self.can_manage_room(access, room)

    def can_vote_question(self, user: Any, access: RoomAccess, question: ChatMessage) -> bool:
        """Up-vote a question (and take the vote back): a member who may react (not a
        muted one), never on their own question."""
        return access.can_react and question.sender_id != user.pk

    def can_endorse_answer(self, user: Any, access: RoomAccess, answer: ChatMessage) -> bool:
        """Endorse an answer: the room's moderators (a course's teachers and TAs; staff
        moderate every room they see)."""
        return access.can_moderate and not access.ended

    def can_resolve_question(self, user: Any, access: RoomAccess, question: ChatMessage) -> bool:
        """Mark a question resolved or reopen it: the room's moderators, and its author
        (as on Piazza and Ed) while they may still act in the room."""
        if access.can_moderate:
            return True
        return access.can_participate and question.sender_id == user.pk

    def can_see_edit_history(self, access: RoomAccess) -> bool:
        """A message's earlier texts: the room's moderators."""
        return access.can_manage

    def can_see_deleted_content(self, access: RoomAccess) -> bool:
        return access.can_manage

    def can_see_attachment(self, user: Any, access: RoomAccess, attachment: ChatAttachment) -> bool:
        """A file is seen by who sees its room's messages: an upload not sent yet by its
        uploader alone, a deleted message's files by those who see deleted content (the
        room's moderators, for audit) until they are purged."""
        if not access.can_see:
            return False
        message = attachment.message
        if message is None:
            return attachment.uploader_id is not None and attachment.uploader_id == user.pk
        return not message.is_deleted or self.can_see_deleted_content(access)

    def can_manage_room(self, access: RoomAccess, room: ChatRoom) -> bool:
        """Rename, describe, archive and remove members (never in private rooms)."""
        return access.can_manage and room.room_type != RoomType.PRIVATE

    def can_review_reports(self, user: Any, access: RoomAccess, room: ChatRoom) -> bool:
        """See a room's moderation queue and act from it: its moderators, and staff in
        every room (a private conversation's reports have no other reader)."""
        return access.can_moderate or (is_active_user(user) and bool(user.is_staff))

    def can_set_retention(self, user: Any, room: ChatRoom) -> bool:
        """Give a room its own retention rule (docs/retention.md): staff only. A room's
        owners and moderators may not: they could lengthen what the site decided to keep
        no longer, or shorten the record the institution keeps of a course."""
        return is_active_user(user) and bool(user.is_staff)

    def can_hold_office_hours(self, access: RoomAccess, room: ChatRoom) -> bool:
        """Open, schedule and close a room's office hours, see its queue with names and
        topics, claim a student, mark them done or absent (docs/office-hours.md): the
        room's moderators (a course's teachers and TAs), never in a private conversation."""
        return access.can_moderate and room.room_type != RoomType.PRIVATE

    def can_queue_for_office_hours(self, access: RoomAccess, room: ChatRoom) -> bool:
        """Raise a hand in a room's office hours (and leave the queue): its members who
        participate (a read-only guest does not; a mute does not stop asking for help)."""
        return access.can_participate and room.room_type != RoomType.PRIVATE

    def can_remove_member(self, access: RoomAccess, room: ChatRoom, target_role: str) -> bool:
        if room.room_type == RoomType.PRIVATE or not access.can_manage:
            return False
        return _RANK[access.role] >= _RANK.get(target_role, 0)

    def is_exempt_from_slow_mode(self, access: RoomAccess) -> bool:
        return access.can_moderate

    def can_sanction(
        self, actor: Any, access: RoomAccess, room: ChatRoom, target: Any, target_role: str
    ) -> bool:
        """Mute or ban ``target``: a room's moderators those ranked below them (an owner a
        moderator, a moderator a member), staff anyone but staff; never oneself, never in
        a private conversation."""
        if room.room_type == RoomType.PRIVATE or not access.can_moderate:
            return False
        if target.pk == actor.pk or getattr(target, "is_staff", False):
            return False
        if getattr(actor, "is_staff", False):
            return True
        return _RANK[access.role] > _RANK.get(target_role, 0)

    def can_set_role(
        self, actor: Any, access: RoomAccess, room: ChatRoom, target: Any, current: str, role: str
    ) -> bool:
        """Give ``target`` (now ``current``) the role ``role``. Moderators move members
        between read-only and member; owners also make and unmake moderators; nobody gives
        ownership here (staff do, in the admin), nor changes their own role. In a course
        room the roster decides who moderates: only read-only and member are given."""
        if role not in _RANK or role is None or role == Role.OWNER or current == Role.OWNER:
            return False
        if room.room_type == RoomType.COURSE and Role.MODERATOR in (role, current):
            return False
        if not self.can_remove_user(actor, access, room, target, current):
            return False
        if Role.MODERATOR in (role, current):
            return access.role == Role.OWNER or bool(getattr(actor, "is_staff", False))
        return True

    def can_remove_user(
        self, actor: Any, access: RoomAccess, room: ChatRoom, target: Any, target_role: str
    ) -> bool:
        """Whether ``actor`` may remove ``target`` (whose role in the room is ``target_role``).

        Staff keep access to every room they can see: only staff remove a staff member
        (here or in the admin). A student who owns a public room may remove other students
        but not lock out the staff who moderate it. Nobody removes themselves (they leave).
        """
        if target.pk == actor.pk:
            return False
        if getattr(target, "is_staff", False) and not getattr(actor, "is_staff", False):
            return False
        return self.can_remove_member(access, room, target_role)

    def can_create_room(
        self, user: Any, room_type: str, *, group: Any = None, course: Any = None
    ) -> bool:
        if not is_active_user(user):
            return False
        if room_type == RoomType.PUBLIC:
            return True
        if room_type == RoomType.GROUP:
            return bool(user.is_staff)
        if room_type == RoomType.COURSE:
            return bool(user.is_staff) or courses.course_role(user, course) == Role.MODERATOR
        return False

    def creatable_groups(self, user: Any) -> QuerySet[Group]:
        """The groups ``user`` may make a group room for: what the creation form lists
        (the service still asks :meth:`can_create_room` about the one chosen). A policy
        that changes who may create group rooms overrides both. Default: staff, any group."""
        if not is_active_user(user) or not user.is_staff:
            return Group.objects.none()
        return Group.objects.all()

    def creatable_courses(self, user: Any) -> QuerySet[Any] | None:
        """The courses ``user`` may make a course room for (None: course rooms are off).
        Default: staff any course, others the courses they teach (moderate)."""
        course_model = courses.get_course_model()
        if course_model is None:
            return None
        if not is_active_user(user):
            return course_model._default_manager.none()
        taught = course_model._default_manager.all()
        if not user.is_staff:
            roles = courses.course_roles_for_user(user)
            taught = taught.filter(pk__in=[k for k, r in roles.items() if r == Role.MODERATOR])
        return taught

    def _creatable_room_types(self, user: Any) -> Iterator[str]:
        if self.can_create_room(user, RoomType.PUBLIC):
            yield RoomType.PUBLIC
        if self.creatable_groups(user).exists():
            yield RoomType.GROUP
        taught = self.creatable_courses(user)
        if taught is not None and taught.exists():
            yield RoomType.COURSE

    def creatable_room_types(self, user: Any) -> list[str]:
        """The room types ``user`` may create, in the creation form's order. A group or
        course type counts only when there is a group or course to pick: a form never
        offers a type and then an empty list."""
        return list(self._creatable_room_types(user))

    def can_create_rooms(self, user: Any) -> bool:
        """Whether ``user`` may create a room of any type (is "create" offered at all);
        stops at the first type found."""
        return next(self._creatable_room_types(user), None) is not None

    def directory_scope(self, user: Any) -> str:
        """Whom the people directory finds for ``user``: "everyone", "shared" (people who
        share a room with them) or "nobody" (``DIRECTORY_SCOPE``; staff find everyone)."""
        if not is_active_user(user):
            return "nobody"
        if user.is_staff:
            return "everyone"
        return app_settings.DIRECTORY_SCOPE

    def can_open_private(self, user: Any, other: Any) -> bool:
        return is_active_user(user) and is_active_user(other) and user.pk != other.pk


@lru_cache(maxsize=1)
def get_policy() -> ChatPolicy:
    policy_class = app_settings.load(ChatSettings.POLICY)
    return policy_class()


def _forget_policy(*, setting: str, **kwargs: Any) -> None:
    if setting == SETTINGS_NAME:
        get_policy.cache_clear()


setting_changed.connect(_forget_policy)
