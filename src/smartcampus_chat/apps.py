from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SmartcampusChatConfig(AppConfig):
    name = "smartcampus_chat"
    verbose_name = _("Campus chat")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported for their side effects: system checks and signal receivers.
        from smartcampus_chat import checks, receivers  # noqa: F401
        from smartcampus_chat.infra import jobs
        from smartcampus_chat.notifications import worker

        jobs.register(jobs.NOTIFICATIONS, worker.wake)
