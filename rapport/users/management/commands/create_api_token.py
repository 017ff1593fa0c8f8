from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rapport.users.models import User
from rapport.users.services import api_token_create


class Command(BaseCommand):
    help = "Create a personal API token for the user with EMAIL and print it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument("--name", default="created with manage.py")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(email=options["email"].strip().lower(), is_active=True).first()
        if user is None:
            raise CommandError(f"No active user with the email {options['email']}.")
        _, raw = api_token_create(user=user, name=options["name"])
        self.stdout.write(raw)
