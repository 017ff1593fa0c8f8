"""Shapes of accounts in the JSON API."""

import datetime
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from ninja import Field, Schema
from pydantic import field_validator

from rapport.accounts import specs
from rapport.accounts.fields import field_json
from rapport.accounts.models import Account, CrmProvider
from rapport.core.spec_schemas import (
    Derived,
    loose_schema_field,
    output_field,
    schema_field,
    schema_model,
    specs_fields,
)


class OwnerOut(Schema):
    id: int
    email: str
    name: str


class CrmOut(Schema):
    provider: str | None
    external_id: str | None
    company_name: str | None
    sync_status: str
    last_synced_at: datetime.datetime | None
    error: str | None


class ChannelOut(Schema):
    id: int
    name: str
    slack_channel_id: str


class ContactOut(Schema):
    id: int
    email: str
    name: str
    kind: str


class AccountRequestsOut(Schema):
    """An account's precomputed request figures (refreshed every minute or so)."""

    open: int
    waiting: int
    pending: int
    closed: int
    total: int
    last_request_at: datetime.datetime | None
    top_requester: str | None
    top_source: str | None
    avg_first_response_seconds: float | None
    avg_resolution_seconds: float | None
    avg_csat: float | None
    csat_count: int
    first_response_breaches: int
    resolution_breaches: int
    refreshed_at: datetime.datetime


# An account's own fields, as answers show them, from their declarations; those without
# a value are null (a number, an amount, a date), the text ones an empty string.
_NULLABLE_OUT = {
    specs.EMPLOYEE_COUNT.name,
    specs.ARR.name,
    specs.CLOSE_DATE.name,
    specs.RENEWAL_DATE.name,
}
_AccountOutFields: Any = schema_model(
    "AccountOutFields",
    __name__,
    {
        spec.name: output_field(spec, nullable=spec.name in _NULLABLE_OUT)
        for spec in specs.ACCOUNT_SPECS
        if spec is not specs.NOTES
    },
    base=Schema,
)


class AccountOut(_AccountOutFields):
    """An account as the API answers it; its own fields as declared in `accounts.specs`."""

    id: int
    primary_domain: str | None
    secondary_domains: list[str]
    owner: OwnerOut | None
    crm: CrmOut
    source: str
    contact_count: int
    contacts: list[ContactOut] = Field(description="The first few contacts, by name.")
    channels: list[ChannelOut]
    logo_url: str | None
    fields: dict[str, Any]
    requests: AccountRequestsOut | None = Field(
        description="Request figures; null until the first refresh after the account exists."
    )
    created_at: datetime.datetime
    updated_at: datetime.datetime


class CrmIn(Schema):
    provider: CrmProvider
    external_id: str = Field(min_length=1, max_length=specs.CRM_EXTERNAL_ID.max_length)
    company_name: str = Field("", max_length=specs.CRM_COMPANY_NAME.max_length)


def account_in_fields(*, patch: bool = False) -> dict[str, Derived]:
    """Return the input fields of an account's own fields, from their declarations.

    Each is checked as declared (a 422 names the bad one), but for the status, which
    the service refuses (a 400) as it always has.
    """
    checked = [spec for spec in specs.ACCOUNT_SPECS if spec is not specs.STATUS]
    return {
        **specs_fields(checked, schema_field, patch=patch),
        "status": loose_schema_field(specs.STATUS, nullable=not patch),
    }


_AccountCreateInFields: Any = schema_model(
    "AccountCreateInFields", __name__, account_in_fields(), base=Schema
)
_AccountPatchInFields: Any = schema_model(
    "AccountPatchInFields", __name__, account_in_fields(patch=True), base=Schema
)


class AccountCreateIn(_AccountCreateInFields):
    """A new account, its own fields as declared in `rapport.accounts.specs`."""

    primary_domain: str | None = Field(
        None, max_length=specs.PRIMARY_DOMAIN.max_length, description=specs.PRIMARY_DOMAIN.help
    )
    secondary_domains: list[str] = Field(
        default_factory=list, max_length=specs.MAX_SECONDARY_DOMAINS
    )
    owner_id: int | None = None
    crm: CrmIn | None = None
    fields: dict[str, Any] = Field(default_factory=dict)

    @field_validator("secondary_domains")
    @classmethod
    def _short_domains(cls, value: list[str]) -> list[str]:
        limit = specs.SECONDARY_DOMAIN.max_length or 0
        if any(len(v) > limit for v in value):
            raise ValueError(f"a domain is at most {limit} characters")
        return value


class AccountPatchIn(_AccountPatchInFields):
    """Any subset of an account's fields; null clears an optional one."""

    primary_domain: str | None = Field(
        None, max_length=specs.PRIMARY_DOMAIN.max_length, description=specs.PRIMARY_DOMAIN.help
    )
    secondary_domains: list[str] | None = Field(None, max_length=specs.MAX_SECONDARY_DOMAINS)
    owner_id: int | None = None
    crm: CrmIn | None = Field(None, description="null unmaps the account from the CRM.")
    fields: dict[str, Any] | None = None


class AccountListOut(Schema):
    items: list[AccountOut]
    count: int


class FieldDefinitionOut(Schema):
    key: str
    label: str
    source: str
    type: str
    choices: list[str]


class FieldDefinitionIn(Schema):
    key: str = Field(
        min_length=1, max_length=specs.FIELD_KEY.max_length, description=specs.FIELD_KEY.help
    )
    label: str = Field(min_length=1, max_length=specs.FIELD_LABEL.max_length)
    type: str = "text"
    choices: list[str] = Field(default_factory=list, max_length=specs.MAX_FIELD_CHOICES)


class FieldDefinitionListOut(Schema):
    items: list[FieldDefinitionOut]
    count: int


class AuditEntryOut(Schema):
    id: int
    actor: str
    action: str
    changes: dict[str, Any]
    created_at: datetime.datetime


class AuditListOut(Schema):
    items: list[AuditEntryOut]
    count: int


class ContactIn(Schema):
    email: str = Field(min_length=3, max_length=specs.CONTACT_EMAIL.max_length)
    name: str = Field("", max_length=specs.CONTACT_NAME.max_length)


def account_out(account: Account) -> dict[str, Any]:
    """Build the API shape of an account fetched by `selectors.account_queryset`.

    A plain dict: the response schema validates it once, where building AccountOut
    here would validate every row twice.
    """
    owner = account.owner
    return {
        "id": account.pk,
        "name": account.name,
        "primary_domain": account.primary_domain,
        "secondary_domains": [d.domain for d in getattr(account, "secondary_domains_shown", [])],
        "owner": {"id": owner.pk, "email": owner.email, "name": owner.name} if owner else None,
        "crm": {
            "provider": account.crm_provider or None,
            "external_id": account.crm_external_id or None,
            "company_name": account.crm_company_name or None,
            "sync_status": account.crm_sync_status,
            "last_synced_at": account.crm_last_synced_at,
            "error": account.crm_sync_error or None,
        },
        "status": account.status,
        "source": account.source,
        "industry": account.industry,
        "tier": account.tier,
        "employee_count": account.employee_count,
        "company_size": account.company_size,
        "arr": account.arr,
        "close_date": account.close_date,
        "renewal_date": account.renewal_date,
        "website": account.website,
        "contact_count": account.contact_count,
        "contacts": [
            {"id": c.pk, "email": c.email, "name": c.name, "kind": c.kind}
            for c in getattr(account, "contacts_shown", [])
        ],
        "channels": [
            {"id": c.pk, "name": c.name, "slack_channel_id": c.slack_channel_id}
            for c in getattr(account, "channels_shown", [])
        ],
        "logo_url": f"/accounts/{account.pk}/logo" if account.logo else None,
        "fields": {
            v.field.key: field_json(v.value) for v in getattr(account, "field_values_shown", [])
        },
        "requests": _requests_out(account),
        "created_at": account.created_at,
        "updated_at": account.updated_at,
    }


def _requests_out(account: Account) -> dict[str, Any] | None:
    try:
        m = account.request_metrics
    except ObjectDoesNotExist:
        return None
    return {
        "open": m.open_count,
        "waiting": m.waiting_count,
        "pending": m.pending_count,
        "closed": m.closed_count,
        "total": m.total_count,
        "last_request_at": m.last_request_at,
        "top_requester": m.top_requester_name or None,
        "top_source": m.top_source or None,
        "avg_first_response_seconds": m.avg_first_response_seconds,
        "avg_resolution_seconds": m.avg_resolution_seconds,
        "avg_csat": m.avg_csat,
        "csat_count": m.csat_count,
        "first_response_breaches": m.first_response_breaches,
        "resolution_breaches": m.resolution_breaches,
        "refreshed_at": m.refreshed_at,
    }
