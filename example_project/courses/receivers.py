"""Tell the chat when enrolments change: the roster hook joins or removes people live.

The chat asks ``courses.chat.course_role`` what the user is now, so one call covers an
enrolment added, changed or deleted (docs/integration.md, "Course rooms").
"""

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from courses.models import Course, Enrolment
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

    transaction.on_commit(tell_the_chat)
