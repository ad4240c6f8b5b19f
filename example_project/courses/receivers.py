"""Tell the chat when enrolments change: the roster hook joins or removes people live.

The chat asks ``courses.chat.course_role`` what the user is now, so one call covers an
enrolment added, changed or deleted (docs/integration.md, "Course rooms"). A course edited
(its end date) or its sections changed: ``course_changed`` brings its rooms in step, the
section rooms' members included (docs/terms.md).
"""

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from courses.models import Course, Enrolment, Section
from smartcampus_chat import services


@receiver([post_save, post_delete], sender=Enrolment, dispatch_uid="courses.enrolment_changed")
def enrolment_changed(sender: Any, instance: Enrolment, **kwargs: Any) -> None:
    user_id, course_id = instance.user_id, instance.course_id

    def tell_the_chat() -> None:
        # A deleted course or user (the enrolment went with it) has no room to follow.
        course = Course.objects.filter(pk=course_id).first()
        user = get_user_model()._default_manager.filter(pk=user_id).first()
        if course is not None and user is not None:
            services.enrolment_changed(user, course)
            if Section.objects.filter(course=course).exists():
                services.course_changed(course)  # Their section's room too.

    transaction.on_commit(tell_the_chat)


@receiver(post_save, sender=Course, dispatch_uid="courses.course_changed")
def course_changed(sender: Any, instance: Course, created: bool, **kwargs: Any) -> None:
    """An edited course (its end date): its rooms follow. A new one gets its room from the
    first enrolment or the sync, as before."""
    if created:
        return
    course_id = instance.pk
    transaction.on_commit(lambda: _course_changed(course_id))


@receiver([post_save, post_delete], sender=Section, dispatch_uid="courses.section_changed")
def section_changed(sender: Any, instance: Section, **kwargs: Any) -> None:
    course_id = instance.course_id
    transaction.on_commit(lambda: _course_changed(course_id))


def _course_changed(course_id: int) -> None:
    course = Course.objects.filter(pk=course_id).first()
    if course is not None:
        services.course_changed(course)
