from __future__ import annotations

from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from facecommons.accounts.models import Role
from facecommons.accounts.services import account_create


class Command(BaseCommand):
    help = "Create a verified, active account with a role (for operators and scripted set-ups)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--email", required=True)
        parser.add_argument("--password", required=True)
        parser.add_argument("--role", choices=[r.value for r in Role], default=Role.CONTRIBUTOR.value)

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            validate_password(opts["password"])
            user = account_create(email=opts["email"], password=opts["password"], role=opts["role"])
        except (ValidationError, ValueError) as exc:
            msgs = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
            raise CommandError(" ".join(msgs)) from exc
        self.stdout.write(self.style.SUCCESS(f"Created {opts['role']} account {user.email}"))
