"""The accounts API: a thin face over the account services and selectors.

The list (GET /accounts) is the directory's: rapport.directory.api adds it to `router`.
"""

from typing import Any

from django.http import HttpRequest
from ninja import File, Router, Status
from ninja.files import UploadedFile

from rapport.accounts import selectors, services, services_contacts, services_fields, services_logos
from rapport.accounts.models import Account, AccountStatus, Contact
from rapport.accounts.schemas import (
    AccountCreateIn,
    AccountOut,
    AccountPatchIn,
    AuditEntryOut,
    AuditListOut,
    ContactIn,
    ContactOut,
    CrmIn,
    FieldDefinitionIn,
    FieldDefinitionListOut,
    FieldDefinitionOut,
    account_out,
)
from rapport.audit.selectors import audit_entries_for
from rapport.core.api_errors import error_responses
from rapport.core.errors import InvalidInput, NotFound
from rapport.users.models import User
from rapport.users.selectors import actor_get

router = Router(tags=["accounts"])
fields_router = Router(tags=["fields"])


def _account(account_id: int) -> Account:
    account = Account.objects.filter(pk=account_id).first()
    if account is None:
        raise NotFound(f"No account with id {account_id}.")
    return account


def _owner(owner_id: int | None) -> User | None:
    if owner_id is None:
        return None
    owner = User.objects.filter(pk=owner_id, is_active=True).first()
    if owner is None:
        raise InvalidInput(f"No active user with id {owner_id}.", field="owner_id")
    return owner


def _detail(account_id: int) -> dict[str, Any]:
    return account_out(selectors.account_queryset().get(pk=account_id))


@router.post(
    "", response={201: AccountOut, **error_responses(400, 403, 409)}, summary="Create an account"
)
def account_create_api(request: HttpRequest, payload: AccountCreateIn) -> Status[dict[str, Any]]:
    metadata = payload.model_dump(
        include={
            "industry",
            "employee_count",
            "company_size",
            "arr",
            "close_date",
            "renewal_date",
            "website",
            "notes",
            "tier",
        }
    )
    account = services.account_create_with(
        actor=actor_get(request),
        crm=_crm(payload.crm),
        fields=payload.fields,
        name=payload.name,
        primary_domain=payload.primary_domain,
        secondary_domains=payload.secondary_domains,
        owner=_owner(payload.owner_id),
        status=payload.status or AccountStatus.NONE,
        **metadata,
    )
    return Status(201, _detail(account.pk))


@router.get(
    "/{account_id}", response={200: AccountOut, **error_responses(404)}, summary="Get an account"
)
def account_get_api(request: HttpRequest, account_id: int) -> dict[str, Any]:
    return _detail(_account(account_id).pk)


@router.patch(
    "/{account_id}",
    response={200: AccountOut, **error_responses(400, 403, 404, 409)},
    summary="Change an account",
)
def account_patch(request: HttpRequest, account_id: int, payload: AccountPatchIn) -> dict[str, Any]:
    account = _account(account_id)
    changes = payload.model_dump(exclude_unset=True)
    crm_given = "crm" in changes
    changes.pop("crm", None)
    fields = changes.pop("fields", None)
    if "owner_id" in changes:
        changes["owner"] = _owner(changes.pop("owner_id"))
    account = services.account_change(
        actor=actor_get(request),
        account=account,
        changes=changes,
        # The schema object, not the dump: exclude_unset also drops a nested default
        # such as an omitted company_name.
        crm=_crm(payload.crm),
        crm_given=crm_given,
        fields=fields,
    )
    return _detail(account.pk)


def _crm(crm: CrmIn | None) -> services.CrmLink | None:
    if crm is None:
        return None
    return services.CrmLink(crm.provider, crm.external_id, crm.company_name)


@router.delete(
    "/{account_id}", response={204: None, **error_responses(403, 404)}, summary="Delete an account"
)
def account_delete_api(request: HttpRequest, account_id: int) -> Status[None]:
    services.account_delete(actor=actor_get(request), account=_account(account_id))
    return Status(204, None)


@router.post(
    "/{account_id}/logo",
    response={200: AccountOut, **error_responses(400, 403, 404)},
    summary="Upload an account's logo",
)
def account_logo_upload(
    request: HttpRequest, account_id: int, logo: File[UploadedFile]
) -> dict[str, Any]:
    services_logos.account_set_logo(
        actor=actor_get(request), account=_account(account_id), upload=logo
    )
    return _detail(account_id)


@router.delete(
    "/{account_id}/logo",
    response={200: AccountOut, **error_responses(403, 404)},
    summary="Remove an account's logo",
)
def account_logo_delete(request: HttpRequest, account_id: int) -> dict[str, Any]:
    services_logos.account_set_logo(
        actor=actor_get(request), account=_account(account_id), upload=None
    )
    return _detail(account_id)


@router.get(
    "/{account_id}/contacts",
    response={200: list[ContactOut], **error_responses(404)},
    summary="An account's contacts",
)
def account_contacts(request: HttpRequest, account_id: int) -> list[Contact]:
    return list(_account(account_id).contacts.order_by("name", "email"))


@router.post(
    "/{account_id}/contacts",
    response={201: ContactOut, **error_responses(400, 404)},
    summary="Add a contact to an account",
)
def account_contact_add(
    request: HttpRequest, account_id: int, payload: ContactIn
) -> Status[Contact]:
    contact = services_contacts.contact_add_to_account(
        account=_account(account_id),
        email=payload.email,
        name=payload.name,
        actor=actor_get(request),
    )
    return Status(201, contact)


@router.get(
    "/{account_id}/audit",
    response={200: AuditListOut, **error_responses(404)},
    summary="An account's audit history",
)
def account_audit(request: HttpRequest, account_id: int) -> dict[str, Any]:
    entries = list(audit_entries_for(_account(account_id)))
    return {
        "items": [
            AuditEntryOut(
                id=e.pk,
                actor=e.actor_label,
                action=e.action,
                changes=e.changes,
                created_at=e.created_at,
            )
            for e in entries
        ],
        "count": len(entries),
    }


@fields_router.get("", response=FieldDefinitionListOut, summary="List extra account fields")
def field_list(request: HttpRequest) -> dict[str, Any]:
    fields = selectors.field_definitions()
    return {"items": fields, "count": len(fields)}


@fields_router.post(
    "",
    response={201: FieldDefinitionOut, **error_responses(400, 403, 409)},
    summary="Define a Rapport field",
)
def field_create(request: HttpRequest, payload: FieldDefinitionIn) -> Status[Any]:
    field = services_fields.field_definition_create(
        actor=actor_get(request),
        key=payload.key,
        label=payload.label,
        type=payload.type,
        choices=payload.choices,
    )
    return Status(201, field)
