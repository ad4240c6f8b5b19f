from django.conf import settings
from django.db import models


class Course(models.Model):
    code = models.CharField(max_length=20, unique=True)
    title = models.CharField(max_length=200)

    def __str__(self):
        return f"{self.code} {self.title}"


class Enrollment(models.Model):
    ROLES = [("student", "Student"), ("ta", "TA"), ("instructor", "Instructor")]
    course = models.ForeignKey(Course, on_delete=models.CASCADE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    role = models.CharField(max_length=12, choices=ROLES, default="student")
