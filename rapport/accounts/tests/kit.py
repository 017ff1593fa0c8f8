"""Helpers the accounts and directory tests share."""

import json
from typing import Any

from django.test import Client

from rapport.accounts.models import Account
from rapport.audit.models import AuditEntry


def audit_of(account: Account, action: str | None = None) -> list[AuditEntry]:
    """Return the audit entries of *account*, of one *action* if given."""
    entries = AuditEntry.objects.filter(object_type="accounts.account", object_id=str(account.pk))
    if action:
        entries = entries.filter(action=action)
    return list(entries)


def send(client: Client, method: str, path: str, body: Any = None, **extra: Any) -> Any:
    """Send *body* as JSON with *method*; GET and DELETE send no body."""
    if method in ("get", "delete"):
        return getattr(client, method)(path, **extra)
    return getattr(client, method)(
        path, data=json.dumps(body or {}), content_type="application/json", **extra
    )


def error_of(response: Any, status: int) -> str:
    """Assert the answer is *status* with a JSON {"error": ...}; return the message."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert isinstance(body.get("error"), str)
    assert body["error"]
    return str(body["error"])
