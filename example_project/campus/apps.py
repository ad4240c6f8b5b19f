from django.apps import AppConfig


class CampusConfig(AppConfig):
    name = "campus"
    verbose_name = "Example campus"
