from django.apps import AppConfig


class CoursesConfig(AppConfig):
    name = "courses"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from courses.models import Enrollment
        from smartcampus_chat import services

        def enrollment_changed(sender, instance, **kwargs):
            services.enrolment_changed(instance.user, instance.course)

        post_save.connect(enrollment_changed, sender=Enrollment, weak=False)
        post_delete.connect(enrollment_changed, sender=Enrollment, weak=False)
