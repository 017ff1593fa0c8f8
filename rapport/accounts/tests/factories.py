"""Build accounts through the real services, so tests exercise the real write path."""

import itertools
from typing import Any

from rapport.accounts.models import Account, FieldDefinition
from rapport.accounts.services import (
    account_create,
    account_set_crm_mapping,
    contact_add_to_account,
    field_definition_create,
)

_sequence = itertools.count(1)


def make_account(
    name: str | None = None,
    *,
    domain: str | None = "",
    contacts: int = 0,
    crm_id: str | None = None,
    **kwargs: Any,
) -> Account:
    """Create an account via `account_create`; pass domain=None for an account without one."""
    n = next(_sequence)
    name = name or f"Company {n}"
    if domain == "":
        domain = f"company{n}.example"
    account = account_create(actor=None, name=name, primary_domain=domain, **kwargs)
    for i in range(contacts):
        contact_add_to_account(account=account, email=f"person{i}@{domain or f'c{n}.example'}")
    if crm_id:
        account = account_set_crm_mapping(
            actor=None, account=account, provider="hubspot", external_id=crm_id, company_name=name
        )
    return account


def make_field(key: str, *, source: str = "rapport", type: str = "text", **kwargs: Any) -> FieldDefinition:
    return field_definition_create(
        actor=None, key=key, label=key.replace("_", " ").title(), source=source, type=type, **kwargs
    )
