from courses.models import Enrollment

CHAT_ROLE = {"student": "member", "ta": "moderator", "instructor": "moderator"}


def course_role(user, course):
    role = Enrollment.objects.filter(course=course, user=user).values_list("role", flat=True)
    return CHAT_ROLE.get(role.first())
