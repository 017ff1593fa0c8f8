"""Build imports through the real services: a CSV, its preview, the worker's run."""

import csv
import io
from collections.abc import Iterable, Mapping
from typing import Any

from rapport.imports.models import Import
from rapport.imports.services import import_confirm, import_preview, import_run
from rapport.onboarding.csv_rows import REQUIRED_COLUMNS
from rapport.onboarding.models import Template
from rapport.onboarding.tests.factories import DEAL_NOTES, shipped_templates
from rapport.users.models import User

COLUMNS = (*REQUIRED_COLUMNS, "industry", "website", "notes", "primary_contact_role")


def csv_row(**overrides: Any) -> dict[str, str]:
    """Return one row of the upload with sensible values; *overrides* replace any of them."""
    row = {
        "company_name": "Acme Corp",
        "arr": "50000",
        "close_date": "2026-11-20",
        "primary_contact_name": "Jane Smith",
        "primary_contact_email": "jane@acme.example",
        "ae_email": "ae@rapport.example",
        "template_name": "Standard SaaS Onboarding",
        "industry": "",
        "website": "",
        "notes": DEAL_NOTES,
        "primary_contact_role": "IT Director",
    }
    row.update({key: str(value) for key, value in overrides.items()})
    return row


def csv_bytes(rows: Iterable[Mapping[str, str]], columns: Iterable[str] = COLUMNS) -> bytes:
    """Return *rows* as a CSV file with a header, as a spreadsheet exports it."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def make_preview(actor: User, rows: Iterable[Mapping[str, str]], **kwargs: Any) -> Import:
    """Upload *rows* and return the previewed import."""
    if not Template.objects.exists():
        shipped_templates()
    return import_preview(actor=actor, data=csv_bytes(rows), filename="accounts.csv", **kwargs)


def make_import(actor: User, rows: Iterable[Mapping[str, str]], **kwargs: Any) -> Import:
    """Upload *rows*, confirm them and run the worker's task in place."""
    upload = make_preview(actor, rows, **kwargs)
    import_confirm(actor=actor, upload=upload)
    return import_run(upload.pk)
