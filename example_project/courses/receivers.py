"""Tell the chat when enrolments change, so live sockets follow the new membership."""

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from courses.models import Enrolment
from smartcampus_chat.realtime.events import notify_access_changed


@receiver([post_save, post_delete], sender=Enrolment, dispatch_uid="courses.enrolment_changed")
def enrolment_changed(sender: Any, instance: Enrolment, **kwargs: Any) -> None:
    notify_access_changed(instance.user_id)
