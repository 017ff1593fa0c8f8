from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from rapport.demo.catalog import DEMO_PASSWORD, MEMBERS
from rapport.demo.services import demo_workspace_load


class Command(BaseCommand):
    help = (
        "Load the demo workspace (members, teams, fields, accounts). Safe to run again: "
        "only what is missing is created."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force",
            action="store_true",
            help="Load even when RAPPORT_ENV=production (the demo logins have a known password).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION and not options["force"]:
            self.stdout.write(
                "Skipped: this is a production install and the demo logins have a known "
                "password. Pass --force to load the demo workspace anyway."
            )
            return
        result = demo_workspace_load()
        if result.changed:
            self.stdout.write(
                f"Demo workspace loaded: {result.accounts} accounts, {result.members} members, "
                f"{result.fields} fields, {result.plans} onboarding plans created."
            )
        else:
            self.stdout.write("Demo workspace already loaded; nothing changed.")
        logins = ", ".join(f"{m.email} ({m.role})" for m in MEMBERS if m.can_log_in)
        self.stdout.write(f"Log in as {logins} with the password {DEMO_PASSWORD}.")
