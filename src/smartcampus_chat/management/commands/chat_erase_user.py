"""``manage.py chat_erase_user <user id or username> [--messages keep|delete]
[--delete-account] --yes``: erase a person's data from the chat (docs/data-export.md,
"Erasure"). It asks nothing: without ``--yes`` it refuses and says what it would do, so
that a script cannot erase someone by accident and a CI job never waits on a prompt."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from smartcampus_chat.conf import app_settings
from smartcampus_chat.services.erasure import MODES, check_erase_user


class Command(BaseCommand):
    help = "Erase a user's personal data from the chat (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("user", help="The user's id or username.")
        parser.add_argument(
            "--messages",
            choices=MODES,
            default=None,
            help="Keep their messages as a former member's, or delete them "
            "(default: the ERASURE_MESSAGES setting).",
        )
        parser.add_argument(
            "--delete-account", action="store_true", help="Delete the user account too."
        )
        parser.add_argument("--yes", action="store_true", help="Do it (required).")

    def handle(self, *args: Any, **options: Any) -> None:
        user = self._user(options["user"])
        mode = options["messages"] or app_settings.ERASURE_MESSAGES
        if not options["yes"]:
            account = " and delete the account" if options["delete_account"] else ""
            raise CommandError(
                f"This would erase the chat data of user {user.pk} (messages: {mode}){account}. "
                "It cannot be undone: run again with --yes to do it."
            )
        user_id = user.pk
        counts = check_erase_user(user, messages=mode, delete_account=options["delete_account"])
        changed = ", ".join(
            f"{name.replace('_', ' ')}: {value}"
            for name, value in vars(counts).items()
            if name != "account_deleted"
        )
        self.stdout.write(f"Erased user {user_id}: {changed}")
        if counts.account_deleted:
            self.stdout.write("The account was deleted.")

    def _user(self, value: str) -> Any:
        model = get_user_model()
        manager = model._default_manager
        found = manager.filter(**{model.USERNAME_FIELD: value}).first()
        if found is None and value.isdigit():
            found = manager.filter(pk=int(value)).first()
        if found is None:
            raise CommandError(f"No user {value!r} (give an id or a username).")
        return found
