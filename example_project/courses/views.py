"""The site's own course pages: a teacher posts a notice to the course's chat room.

This is host code using the chat's public Python API (docs/integration.md, "The Python
API"): the site decides who may post as the site, the chat stores and delivers.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from courses.models import Course, Enrolment
from smartcampus_chat import services
from smartcampus_chat.exceptions import ChatError


@login_required
def my_courses(request: HttpRequest) -> HttpResponse:
    enrolments = Enrolment.objects.filter(user=request.user).select_related("course")
    return render(request, "courses/my_courses.html", {"enrolments": enrolments})


@login_required
@require_http_methods(["POST"])
def post_notice(request: HttpRequest, pk: int) -> HttpResponse:
    course = get_object_or_404(Course, pk=pk)
    if not Enrolment.objects.filter(
        course=course, user=request.user, role=Enrolment.Role.TEACHER
    ).exists():
        raise PermissionDenied
    room, _created = services.ensure_course_room(course)
    try:
        services.post_system_message(room, request.POST.get("text", ""))
    except ChatError as exc:
        reasons = [reason for errors in exc.fields.values() for reason in errors]
        messages.error(request, " ".join(reasons) or exc.message)
    else:
        messages.success(request, _("The notice was posted to the course chat."))
    return redirect("my_courses")
