"""Template helpers of the account page: domains, CRM badges, links and the history."""

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma

from rapport.accounts.domains import domain_display
from rapport.accounts.models import (
    Account,
    AccountSource,
    AccountStatus,
    CrmProvider,
    CrmSyncStatus,
    FieldDefinition,
)
from rapport.audit.models import AuditEntry
from rapport.core.templatetags.display import when

register = template.Library()

AUDIT_LABELS = {
    "name": "Name",
    "primary_domain": "Primary domain",
    "secondary_domains": "Secondary domains",
    "logo": "Logo",
    "owner": "Owner",
    "crm": "CRM mapping",
    "status": "Status",
    "industry": "Industry",
    "employee_count": "Employees",
    "arr": "ARR",
    "close_date": "Close date",
    "website": "Website",
    "tier": "SLA tier",
    "notes": "Notes",
    "contacts": "Contacts",
    "domain_takeover": "Domain takeover",
    "slack_channels": "Slack channels",
}
AUDIT_ACTIONS = {
    "account.create": "created the account",
    "account.update": "changed the account",
    "account.crm_mapping": "changed the CRM mapping",
    "account.logo": "changed the logo",
    "account.fields": "changed fields",
    "account.contact_add": "added a contact",
    "account.contact_remove": "removed a contact",
    "account.delete": "deleted the account",
    "account.domain_takeover": "moved a domain between accounts",
    "account.channel_link": "linked a Slack channel",
    "account.channel_unlink": "unlinked a Slack channel",
}
_DOMAIN_KEYS = {"primary_domain", "secondary_domains"}


@register.filter
def domain(value: str | None) -> str:
    """Show a stored (ASCII) domain in Unicode."""
    return domain_display(value) if value else ""


def requests_board_url(account_id: int, status: str = "") -> str:
    """Link to the request board filtered to one account (and one state)."""
    query = f"?account={account_id}" + (f"&status={status}" if status else "")
    return f"/requests/{query}"


@register.simple_tag
def board_url(account_id: int, status: str = "") -> str:
    return requests_board_url(account_id, status)


@register.filter
def crm_title(account: Account) -> str:
    """The hover text of an account's CRM sync badge: when it last synced, or why it fails."""
    return crm_sync_title(
        account.crm_sync_status, account.crm_last_synced_at, account.crm_sync_error
    )


def crm_sync_title(
    status: str,
    last_synced_at: datetime.datetime | None,
    error: str,
    *,
    when: Callable[[datetime.datetime | None], str] = when,
) -> str:
    """Return the hover text of a CRM sync badge from the account's sync columns.

    *when* formats the last sync; the directory passes one that does the same work
    once per page rather than once per row.
    """
    if status == CrmSyncStatus.NOT_MAPPED:
        return "Not mapped to a CRM company"
    if status == CrmSyncStatus.MAPPED:
        return "Mapped by hand; no sync has run yet, so nothing comes from the CRM so far"
    last = when(last_synced_at) or "never"
    if status == CrmSyncStatus.FAILING:
        return f"Sync failing: {error or 'unknown error'} (last attempt: {last})"
    return f"Last synced: {last}"


@dataclass
class AuditChange:
    label: str
    before: str
    after: str


def _audit_text(key: str, value: Any) -> str:
    if value is None or value == "" or value == []:
        return ""
    if key in _DOMAIN_KEYS:
        values = value if isinstance(value, list) else [value]
        return ", ".join(domain_display(str(v)) for v in values)
    if key == "status" and value in AccountStatus.values:
        return AccountStatus(value).label
    if key == "source" and value in AccountSource.values:
        return AccountSource(value).label
    if key == "crm_provider" and value in CrmProvider.values:
        return CrmProvider(value).label
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return intcomma(value)
    return str(value)


@register.simple_tag(name="audit_changes")
def audit_changes_shown(entry: AuditEntry, fields: list[FieldDefinition]) -> list[AuditChange]:
    """Return the changes of an audit entry as labelled before → after pairs."""
    labels = {f"field:{f.key}": f.label for f in fields}
    rows = []
    for key, change in (entry.changes or {}).items():
        if not isinstance(change, dict):
            continue
        before = _audit_text(key, change.get("before"))
        after = _audit_text(key, change.get("after"))
        if before == after:  # such as "no domains" recorded as None, then as []
            continue
        label = AUDIT_LABELS.get(key) or labels.get(key) or key.removeprefix("field:")
        rows.append(AuditChange(label=label, before=before, after=after))
    return rows


@register.filter
def audit_action(action: str) -> str:
    """Say what an audit entry's action did, in words."""
    return AUDIT_ACTIONS.get(action, action)
