"""The host site's own course model: the chat links course rooms to it."""

from django.conf import settings
from django.db import models


class Course(models.Model):
    code = models.CharField(max_length=20, unique=True)
    title = models.CharField(max_length=200)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} — {self.title}"


class Enrolment(models.Model):
    class Role(models.TextChoices):
        STUDENT = "student", "Student"
        TEACHER = "teacher", "Teacher"

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="enrolments")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enrolments"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.STUDENT)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["course", "user"], name="courses_enrolment_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.course} ({self.role})"
