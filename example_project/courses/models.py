"""The host site's own course model: the chat links course rooms to it."""

from django.conf import settings
from django.db import models


class Course(models.Model):
    code = models.CharField(max_length=20, unique=True)
    title = models.CharField(max_length=200)
    # The last day of the course (the chat's COURSE_END): its room is read-only after it.
    ends_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} — {self.title}"


class Section(models.Model):
    """A section or project group of a course: the chat gives each its own room."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="sections")
    key = models.SlugField(max_length=40)
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["course", "key"]
        constraints = [
            models.UniqueConstraint(fields=["course", "key"], name="courses_section_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.course.code} {self.name}"


class Enrolment(models.Model):
    class Role(models.TextChoices):
        STUDENT = "student", "Student"
        TEACHER = "teacher", "Teacher"

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="enrolments")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enrolments"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.STUDENT)
    section = models.ForeignKey(
        Section, null=True, blank=True, on_delete=models.SET_NULL, related_name="enrolments"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["course", "user"], name="courses_enrolment_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.course} ({self.role})"
