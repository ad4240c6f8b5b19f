"""Create the example site's demo data. Safe to run again: it only adds what is missing."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.text import slugify

from courses.models import Course, Enrolment
from smartcampus_chat import services
from smartcampus_chat.models import ChatRoom, RoomType

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
]
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
}


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
            private, _ = services.do_open_private(users["alice"], users["bob"])
            if not private.messages.exists():
                services.do_send_message(
                    users["alice"], private, "Are you coming to the lab session?"
                )
                services.do_send_message(users["bob"], private, "Yes, see you there!")
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write(
            f"Demo logins (password '{DEMO_PASSWORD}'): " + ", ".join(u[0] for u in USERS)
        )

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

    def _history(self, room: ChatRoom, users: dict[str, Any]) -> None:
        if room.messages.exists():
            return
        for username, text in HISTORY.get(room.name, []):
            services.do_send_message(users[username], room, text)
