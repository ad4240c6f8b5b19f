"""Create the example site's demo data. Safe to run again: it only adds what is missing."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from courses.models import Course, Enrolment, Section
from smartcampus_chat import queries, services
from smartcampus_chat.domain.polls import PollSpec
from smartcampus_chat.models import ChatRoom, MessageKind, RoomType

DEMO_PASSWORD = "campus-demo"

USERS = [
    # username, first, last, staff
    ("alice", "Alice", "Durand", False),
    ("bob", "Bob", "Martin", False),
    ("chloe", "Chloé", "Bernard", False),
    ("prof.martin", "Claire", "Martin", False),
    ("staff.admin", "Sam", "Admin", True),
]
GROUPS = {"Robotics Club": ["alice", "bob"], "Student Council": ["chloe", "alice"]}
COURSES = [
    (
        "CS101",
        "Introduction to Programming",
        {"prof.martin": "teacher", "alice": "student", "bob": "student"},
    ),
    ("MATH201", "Linear Algebra", {"prof.martin": "teacher", "chloe": "student", "bob": "student"}),
    (
        "HIST110",
        "History of Computing (last term)",
        {"prof.martin": "teacher", "alice": "student", "chloe": "student"},
    ),
]
#: Courses whose term is over: their rooms are read-only (docs/terms.md).
ENDED = {"HIST110": 10}  # code: days since its last day
#: Lab groups: each has its own room beside the course's.
SECTIONS = {"CS101": {"lab-a": ("Lab group A", ["alice"]), "lab-b": ("Lab group B", ["bob"])}}
HISTORY = {
    "General": [
        ("alice", "Hi everyone! Welcome to the campus chat 👋"),
        ("bob", "Hello! Does anyone know when the library opens on Saturday?"),
        ("chloe", "9:00 to 17:00 this term."),
        ("staff.admin", "Reminder: the network maintenance is on Sunday night."),
    ],
    "Help desk": [
        ("chloe", "Where do I find the exam timetable?"),
        ("staff.admin", "On the portal, under Studies > Exams."),
    ],
    "Robotics Club": [
        ("alice", "Meeting on Thursday at 18:00 in room B12."),
        ("bob", "I'll bring the new servos."),
    ],
    "CS101 — Introduction to Programming": [
        ("prof.martin", "Lab 3 is online. Deadline: Friday 23:59."),
        ("alice", "Can we use Python 3.13 for the lab?"),
        ("prof.martin", "Yes, any Python from 3.10 up."),
    ],
    "MATH201 — Linear Algebra": [("prof.martin", "Tomorrow: eigenvalues. Read chapter 5 first.")],
    "HIST110 — History of Computing (last term)": [
        ("prof.martin", "Thank you all for this term. The grades are on the portal."),
        ("chloe", "Thank you, it was a great course!"),
    ],
}


#: The CS101 announcement its students are asked to acknowledge.
ANNOUNCEMENT = (
    "**Exam registration** closes next Friday: check your details on the portal, "
    "then press *I have read this*."
)


#: The CS101 room's questions (Q&A mode) and the answer its teacher endorsed.
QUESTIONS = (
    "How do I install Python on Windows?",
    "Will the exam cover recursion?",
)
ANSWER = "Use the installer from python.org and tick *Add python.exe to PATH*."
#: The CS101 question a student asked anonymously to classmates.
ANONYMOUS_QUESTION = "Sorry if this is obvious: what is the difference between a list and a tuple?"


class Command(BaseCommand):
    help = "Create demo users, groups, courses, rooms of each type and some history."

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            users = self._users()
            for name, members in GROUPS.items():
                group, _ = Group.objects.get_or_create(name=name)
                group.user_set.add(*(users[m] for m in members))
            courses = {}
            for code, title, roles in COURSES:
                course, _ = Course.objects.get_or_create(code=code, defaults={"title": title})
                courses[code] = course
                for username, role in roles.items():
                    Enrolment.objects.get_or_create(
                        course=course, user=users[username], defaults={"role": role}
                    )
                self._sections(course, users)
            staff = users["staff.admin"]
            rooms = [
                self._room(staff, "General", RoomType.PUBLIC, "Everything campus life."),
                self._room(staff, "Help desk", RoomType.PUBLIC, "Ask the staff."),
                self._room(
                    staff,
                    "Robotics Club",
                    RoomType.GROUP,
                    "Club members only.",
                    group=Group.objects.get(name="Robotics Club"),
                ),
            ]
            for course in courses.values():
                rooms.append(
                    self._room(
                        users["prof.martin"],
                        str(course),
                        RoomType.COURSE,
                        f"Course room of {course.code}.",
                        course=course,
                    )
                )
            for room in rooms:
                self._history(room, users)
            first_course = rooms[-len(courses)]
            self._office_hours(first_course, users)
            self._announcement(first_course, users["prof.martin"])
            self._questions(first_course, users)
            self._anonymous(first_course, users["bob"])
            self._poll(first_course, users)
            private, _ = services.do_open_private(users["alice"], users["bob"])
            if not private.messages.exists():
                services.do_send_message(
                    users["alice"], private, "Are you coming to the lab session?"
                )
                services.do_send_message(users["bob"], private, "Yes, see you there!")
        # Last term's course ends after its history was written; then the sync gives every
        # course its sections' rooms and its end (idempotent).
        for code, days in ENDED.items():
            Course.objects.filter(code=code, ends_on__isnull=True).update(
                ends_on=date.today() - timedelta(days=days)
            )
        services.sync_courses()
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write(
            f"Demo logins (password '{DEMO_PASSWORD}'): " + ", ".join(u[0] for u in USERS)
        )

    def _sections(self, course: Course, users: dict[str, Any]) -> None:
        for key, (name, members) in SECTIONS.get(course.code, {}).items():
            section, _ = Section.objects.get_or_create(
                course=course, key=key, defaults={"name": name}
            )
            Enrolment.objects.filter(
                course=course, user__in=[users[m] for m in members], section__isnull=True
            ).update(section=section)

    def _users(self) -> dict[str, Any]:
        user_model = get_user_model()
        users = {}
        for username, first, last, staff in USERS:
            user, created = user_model.objects.get_or_create(
                username=username,
                defaults={
                    "first_name": first,
                    "last_name": last,
                    "is_staff": staff,
                    "is_superuser": staff,
                },
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save()
            users[username] = user
        return users

    def _room(
        self, owner: Any, name: str, room_type: str, description: str, **links: Any
    ) -> ChatRoom:
        room = ChatRoom.objects.filter(name=name, room_type=room_type).first()
        # Demo rooms keep readable slugs (/chat/room/general/): chosen here, since rooms
        # created in the chat always get a random suffix.
        return room or services.do_create_room(
            owner,
            name=name,
            room_type=room_type,
            description=description,
            slug=slugify(name),
            **links,
        )

    def _office_hours(self, room: ChatRoom, users: dict[str, Any]) -> None:
        """The first course's office hours are open, a student waiting (docs/office-hours.md)."""
        if queries.current_session(room) is not None:
            return
        services.check_open_office_hours(users["prof.martin"], room)
        services.check_raise_hand(users["alice"], room, "Lab 3: my loop never ends")

    def _announcement(self, room: ChatRoom, teacher: Any) -> None:
        """The course room's announcement its students are asked to acknowledge within
        a week (docs/announcements.md)."""
        if room.messages.filter(kind=MessageKind.ANNOUNCEMENT).exists():
            return
        services.do_send_message(
            teacher,
            room,
            ANNOUNCEMENT,
            kind=MessageKind.ANNOUNCEMENT,
            requires_ack=True,
            ack_due=timezone.now() + timedelta(days=7),
        )

    def _questions(self, room: ChatRoom, users: dict[str, Any]) -> None:
        """The course room in Q&A mode (docs/questions.md): two questions, an answer the
        teacher endorsed, up-votes."""
        if room.qa_mode:
            return
        teacher, alice, bob = users["prof.martin"], users["alice"], users["bob"]
        room = services.do_update_room(room, qa_mode=True)
        install = services.do_send_message(bob, room, QUESTIONS[0]).message
        exam = services.do_send_message(alice, room, QUESTIONS[1]).message
        answer = services.do_send_message(alice, room, ANSWER, reply_to=install).message
        services.do_endorse(teacher, answer, install, endorse=True)
        services.do_vote(alice, install, vote=True)
        services.do_vote(teacher, install, vote=True)
        services.do_vote(bob, exam, vote=True)

    def _anonymous(self, room: ChatRoom, student: Any) -> None:
        """The course room allows anonymous posts, with one from a student
        (docs/anonymous-posts.md)."""
        if room.messages.filter(anonymous=True).exists():
            return
        if not room.allow_anonymous:
            services.do_update_room(room, allow_anonymous=True)
        services.do_send_message(student, room, ANONYMOUS_QUESTION, anonymous=True)

    def _poll(self, room: ChatRoom, users: dict[str, Any]) -> None:
        """An open poll in the course room, with one student's vote (docs/polls.md)."""
        if room.messages.filter(poll__isnull=False).exists():
            return
        message = services.do_send_message(
            users["prof.martin"],
            room,
            "Which day suits you for the exam review session?",
            poll=PollSpec(("Monday", "Wednesday", "Friday")),
        ).message
        first = message.poll.options.order_by("position").first()  # type: ignore[attr-defined]
        assert first is not None
        services.do_poll_vote(users["bob"], message, [first.pk])

    def _history(self, room: ChatRoom, users: dict[str, Any]) -> None:
        if room.messages.exists():
            return
        for username, text in HISTORY.get(room.name, []):
            services.do_send_message(users[username], room, text)
