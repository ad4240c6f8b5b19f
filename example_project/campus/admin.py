"""The site's user admin, with the chat's erasure action (docs/data-export.md, "Erasure")."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from smartcampus_chat.admin import erase_chat_data

User = get_user_model()

admin.site.unregister(User)


@admin.register(User)
class CampusUserAdmin(UserAdmin):
    actions = [erase_chat_data]
