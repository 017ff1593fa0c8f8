"""Writes of accounts: identity, domains, metadata, CRM mapping, and deletion.

Identity (name, logo, domains, CRM mapping) and extra Rapport fields are admin-only;
members may change the owner and the lifecycle metadata. Every change is audited.
Contacts, extra fields and logos have their own modules: services_contacts,
services_fields and services_logos.
"""

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from rapport.accounts.domains import domain_normalize, primary_domain_refusal
from rapport.accounts.models import (
    Account,
    AccountContact,
    AccountDomain,
    AccountSource,
    AccountStatus,
    CrmProvider,
    CrmSyncStatus,
)
from rapport.accounts.services_fields import account_field_values_write, account_set_field_values
from rapport.accounts.specs import (
    CRM_COMPANY_NAME,
    CRM_EXTERNAL_ID,
    METADATA,
    NAME,
    STATUS,
    account_metadata_clean,
)
from rapport.audit.services import audit_changes, audit_record
from rapport.core.errors import Conflict, InvalidInput, PermissionDenied
from rapport.users.models import User
from rapport.users.services import user_require_admin

METADATA_FIELDS = ("owner", *METADATA)


# --- helpers -----------------------------------------------------------------------------


def _clean_domains(values: Iterable[str], *, field: str) -> list[str]:
    seen: list[str] = []
    for value in values:
        if not value or not value.strip():
            continue
        try:
            domain = domain_normalize(value)
        except InvalidInput as exc:
            raise InvalidInput(exc.message, field=field) from None
        if domain not in seen:
            seen.append(domain)
    return seen


def _primary_domain_conflict(domain: str, *, exclude: int | None = None) -> Conflict | None:
    matches = Account.objects.filter(primary_domain=domain)
    if exclude is not None:
        matches = matches.exclude(pk=exclude)
    owner = matches.first()
    if owner is None:
        return None
    return Conflict(
        f"{domain} is already the primary domain of the account “{owner.name}” (id {owner.pk}).",
        field="primary_domain",
    )


def _primary_domain_vet(domain: str) -> None:
    """Refuse a domain that cannot identify a company, such as a public mail domain."""
    if (reason := primary_domain_refusal(domain)) is not None:
        raise InvalidInput(reason, field="primary_domain")


@dataclass(frozen=True)
class DomainHold:
    """A domain an account is about to get that another account already holds.

    *taken*: the other account has it as a secondary domain and this one takes it as
    its primary domain (mail from it then comes here). Otherwise the other account has
    it as its primary domain and this one adds it as a secondary domain.
    """

    domain: str
    holder: Account
    taken: bool

    def refusal(self) -> PermissionDenied:
        """The answer to a member, who may not take another account's mail."""
        holder = f"the account “{self.holder.name}” (id {self.holder.pk})"
        if self.taken:
            return PermissionDenied(
                f"{self.domain} is a secondary domain of {holder}: only an admin can make "
                "it another account's primary domain.",
                field="primary_domain",
            )
        return PermissionDenied(
            f"{self.domain} is the primary domain of {holder}: only an admin can add it "
            "to another account.",
            field="secondary_domains",
        )


def _domain_holds(
    primary: str | None, secondaries: Iterable[str], *, exclude: int | None = None
) -> list[DomainHold]:
    """Return the other accounts that hold *primary* as a secondary domain, or a domain of
    *secondaries* as their primary domain."""
    holds = []
    if primary:
        rows = AccountDomain.objects.filter(domain=primary).select_related("account")
        if exclude is not None:
            rows = rows.exclude(account_id=exclude)
        holds += [DomainHold(primary, row.account, taken=True) for row in rows.order_by("pk")]
    secondaries = list(secondaries)
    if secondaries:
        others = Account.objects.filter(primary_domain__in=secondaries).order_by("pk")
        if exclude is not None:
            others = others.exclude(pk=exclude)
        holds += [DomainHold(a.primary_domain or "", a, taken=False) for a in others]
    return holds


def _domain_holds_authorize(actor: User | None, holds: list[DomainHold]) -> None:
    """Refuse a member a domain another account holds; an admin (or Rapport) may take it."""
    if holds and actor is not None and not actor.is_admin:
        raise holds[0].refusal()


def _domain_holds_carry_out(actor: User | None, account: Account, holds: list[DomainHold]) -> None:
    """Take the held domains for *account*, and audit it on both accounts.

    A secondary domain that becomes *account*'s primary domain leaves the other account
    (a domain's mail goes to one account); a primary domain that *account* adds as a
    secondary domain stays the other account's primary domain, which mapping prefers.
    """
    if not holds:
        return
    here = f"the account “{account.name}” (id {account.pk})"
    for hold in holds:
        holder = hold.holder
        before = sorted(holder.domains.values_list("domain", flat=True))
        if hold.taken:
            AccountDomain.objects.filter(account=holder, domain=hold.domain).delete()
            note = f"{hold.domain}: now the primary domain of {here}"
        else:
            note = f"{hold.domain}: now also a secondary domain of {here}"
        after = sorted(holder.domains.values_list("domain", flat=True))
        audit_record(
            actor=actor,
            action="account.domain_takeover",
            obj=holder,
            changes=audit_changes({"secondary_domains": before}, {"secondary_domains": after})
            | {"domain_takeover": {"before": None, "after": note}},
        )
    taken = [
        f"{hold.domain}: "
        + ("was a secondary domain of" if hold.taken else "stays the primary domain of")
        + f" the account “{hold.holder.name}” (id {hold.holder.pk})"
        for hold in holds
    ]
    audit_record(
        actor=actor,
        action="account.domain_takeover",
        obj=account,
        changes={"domain_takeover": {"before": None, "after": "; ".join(taken)}},
    )
    account_refresh_denormalized(hold.holder.pk for hold in holds)


def _identity_snapshot(account: Account) -> dict[str, Any]:
    return {
        "name": account.name,
        "primary_domain": account.primary_domain,
        "secondary_domains": sorted(account.domains.values_list("domain", flat=True))
        if account.pk
        else [],
        "logo": account.logo.name or None,
        "owner": account.owner.display_name if account.owner else None,
        "crm": _crm_snapshot(account),
    }


def _crm_snapshot(account: Account) -> str | None:
    if not account.crm_external_id:
        return None
    label = CrmProvider(account.crm_provider).label if account.crm_provider else "CRM"
    company = f" ({account.crm_company_name})" if account.crm_company_name else ""
    return f"{label} {account.crm_external_id}{company}"


def _metadata_snapshot(account: Account) -> dict[str, Any]:
    return {
        "owner": account.owner.display_name if account.owner else None,
        "status": account.status,
        "industry": account.industry,
        "employee_count": account.employee_count,
        "company_size": account.company_size,
        "arr": str(account.arr) if account.arr is not None else None,
        "close_date": account.close_date.isoformat() if account.close_date else None,
        "renewal_date": account.renewal_date.isoformat() if account.renewal_date else None,
        "website": account.website,
        "tier": account.tier,
        "notes": account.notes,
    }


def account_refresh_denormalized(account_ids: Iterable[int]) -> None:
    """Recompute the contact count and search text of the given accounts.

    The account rows are locked (in id order) before their domains and contacts are
    read, so two transactions refreshing one account (two new contacts of it, at once)
    take turns and the second counts the first's contact; without the lock, on
    PostgreSQL, the second would write back a count read before the first committed.
    The lock is FOR NO KEY UPDATE, which does not wait for the key-share locks that
    linking a contact takes on its account: two transactions that each linked a contact
    to the account would otherwise wait for each other.
    """
    ids = sorted(set(account_ids))
    if not ids:
        return
    with transaction.atomic():
        accounts = list(
            Account.objects.filter(pk__in=ids)
            .select_for_update(no_key=True)
            .order_by("pk")
            .values_list("id", "name", "primary_domain", "crm_company_name")
        )
        domains: dict[int, list[str]] = {}
        for account_id, domain in AccountDomain.objects.filter(account_id__in=ids).values_list(
            "account_id", "domain"
        ):
            domains.setdefault(account_id, []).append(domain)
        emails: dict[int, list[str]] = {}
        for account_id, email in AccountContact.objects.filter(account_id__in=ids).values_list(
            "account_id", "contact__email"
        ):
            emails.setdefault(account_id, []).append(email)
        rows = [
            (
                account_search_text(
                    name, primary_domain, domains.get(pk, []), emails.get(pk, []), crm_company
                ),
                len(emails.get(pk, [])),
                pk,
            )
            for pk, name, primary_domain, crm_company in accounts
        ]
        # One prepared statement for every account: the ingest path refreshes hundreds of
        # accounts per batch, and bulk_update's CASE per row costs more to build than to run.
        table = connection.ops.quote_name(Account._meta.db_table)
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {table} SET search_text = %s, contact_count = %s WHERE id = %s",  # noqa: S608
                rows,
            )


def account_contacts_counted(added: dict[int, list[str]]) -> None:
    """Add to each account's contact count and search text the contacts just linked to it.

    *added* maps an account id to the emails of its new contacts. The same result as
    `account_refresh_denormalized`, without reading every contact of the account: the
    increment is applied to the row as it stands, so concurrent links all count.
    """
    table = connection.ops.quote_name(Account._meta.db_table)
    rows = [
        (" " + " ".join(email.lower() for email in emails), len(emails), pk)
        for pk, emails in sorted(added.items())
    ]
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET search_text = search_text || %s, "  # noqa: S608 - names only
            "contact_count = contact_count + %s WHERE id = %s",
            rows,
        )


def account_search_text(
    name: str,
    primary_domain: str | None,
    secondary_domains: Iterable[str],
    contact_emails: Iterable[str],
    crm_company_name: str = "",
) -> str:
    """Return the lower-case text the directory search matches against."""
    parts = [name, primary_domain or "", *secondary_domains, *contact_emails, crm_company_name]
    return " ".join(part.lower() for part in parts if part)


# --- accounts ------------------------------------------------------------------------------


def account_create(
    *,
    actor: User | None,
    name: str,
    primary_domain: str | None = None,
    secondary_domains: Iterable[str] = (),
    owner: User | None = None,
    source: str = AccountSource.MANUAL,
    status: str = AccountStatus.NONE,
    fields: Mapping[str, Any] | None = None,
    **metadata: Any,
) -> Account:
    """Create an account, refusing a primary domain that another account already has.

    The unique constraint on `primary_domain` settles races: when two creates with the
    same domain run at once, one commits and the other gets the same Conflict as a
    sequential duplicate, naming the account that won.
    """
    name = NAME.validate(name)
    primary = _clean_domains([primary_domain or ""], field="primary_domain")
    domain = primary[0] if primary else None
    secondaries = [
        d for d in _clean_domains(secondary_domains, field="secondary_domains") if d != domain
    ]
    if source not in AccountSource.values:
        raise InvalidInput(f"Unknown account source {source!r}.", field="source")
    unknown = set(metadata) - set(METADATA_FIELDS)
    if unknown:
        raise InvalidInput(f"Unknown account fields: {', '.join(sorted(unknown))}.")
    status = STATUS.validate(status)
    metadata = _clean_metadata(metadata)
    if domain:
        _primary_domain_vet(domain)
    if domain and (conflict := _primary_domain_conflict(domain)):
        raise conflict
    holds = _domain_holds(domain, secondaries)
    _domain_holds_authorize(actor, holds)
    try:
        with transaction.atomic():
            account = Account(
                name=name,
                primary_domain=domain,
                owner=owner,
                source=source,
                status=status,
                **metadata,
            )
            account.save()
            AccountDomain.objects.bulk_create(
                [AccountDomain(account=account, domain=d) for d in secondaries]
            )
            field_changes = (
                account_field_values_write(actor, account, fields, allow_crm=actor is None)
                if fields
                else {}
            )
            account_refresh_denormalized([account.pk])
            created = _identity_snapshot(account) | _metadata_snapshot(account)
            audit_record(
                actor=actor,
                action="account.create",
                obj=account,
                changes=audit_changes({}, created) | field_changes,
            )
            _domain_holds_carry_out(actor, account, holds)
    except IntegrityError:
        if domain and (conflict := _primary_domain_conflict(domain)):
            raise conflict from None
        raise
    account.refresh_from_db()
    return account


def _clean_metadata(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """Clean metadata by its declarations in `rapport.accounts.specs`, and the owner."""
    owner = metadata.get("owner")
    if owner is not None and not isinstance(owner, User):
        raise InvalidInput("owner must be a workspace member.", field="owner")
    return account_metadata_clean(metadata)


@transaction.atomic
def account_update(*, actor: User, account: Account, **changes: Any) -> Account:
    """Change an account's identity and metadata; identity changes need an admin.

    `secondary_domains` replaces the whole list. Use `account_set_crm_mapping`,
    `account_set_logo` and `account_set_field_values` for those parts.
    """
    identity = {k for k in changes if k in ("name", "primary_domain", "secondary_domains")}
    unknown = set(changes) - identity - set(METADATA_FIELDS)
    if unknown:
        raise InvalidInput(f"These account fields cannot be changed: {', '.join(sorted(unknown))}.")
    if identity:
        user_require_admin(actor, "change an account's name or domains")
    # Lock only the account row: PostgreSQL refuses FOR UPDATE on the nullable side of
    # the outer join to the owner.
    account = (
        Account.objects.select_for_update(of=("self",)).select_related("owner").get(pk=account.pk)
    )
    before = _identity_snapshot(account) | _metadata_snapshot(account)

    if "name" in changes:
        account.name = NAME.validate(changes["name"])
    new_primary: str | None = None
    if "primary_domain" in changes:
        primary = _clean_domains([changes["primary_domain"] or ""], field="primary_domain")
        domain = primary[0] if primary else None
        if domain and domain != account.primary_domain:
            _primary_domain_vet(domain)
            new_primary = domain
        if domain and (conflict := _primary_domain_conflict(domain, exclude=account.pk)):
            raise conflict
        account.primary_domain = domain
    wanted: list[str] | None = None
    existing: set[str] = set()
    if "secondary_domains" in changes:
        wanted = [
            d
            for d in _clean_domains(changes["secondary_domains"] or [], field="secondary_domains")
            if d != account.primary_domain
        ]
        existing = set(account.domains.values_list("domain", flat=True))
    holds = _domain_holds(
        new_primary, [d for d in wanted or [] if d not in existing], exclude=account.pk
    )
    _domain_holds_authorize(actor, holds)
    for key, value in _clean_metadata(
        {k: v for k, v in changes.items() if k in METADATA_FIELDS}
    ).items():
        setattr(account, key, value)
    try:
        with transaction.atomic():
            account.save()
    except IntegrityError:
        if account.primary_domain and (
            conflict := _primary_domain_conflict(account.primary_domain, exclude=account.pk)
        ):
            raise conflict from None
        raise
    if wanted is not None:
        AccountDomain.objects.filter(account=account).exclude(domain__in=wanted).delete()
        AccountDomain.objects.bulk_create(
            [AccountDomain(account=account, domain=d) for d in wanted if d not in existing]
        )
    elif "primary_domain" in changes and account.primary_domain:
        # A domain promoted to primary is no longer also a secondary one.
        AccountDomain.objects.filter(account=account, domain=account.primary_domain).delete()
    account_refresh_denormalized([account.pk])
    account.refresh_from_db()
    after = _identity_snapshot(account) | _metadata_snapshot(account)
    audit_record(
        actor=actor, action="account.update", obj=account, changes=audit_changes(before, after)
    )
    _domain_holds_carry_out(actor, account, holds)
    return account


@transaction.atomic
def account_set_crm_mapping(
    *,
    actor: User | None,
    account: Account,
    provider: str,
    external_id: str,
    company_name: str = "",
) -> Account:
    """Map an account to a CRM company by hand, or unmap it with an empty external id.

    A company id entered by hand is "mapped, not synced yet" until
    `account_record_crm_sync` records a sync; a new company id starts over.
    """
    if actor is not None:
        user_require_admin(actor, "change an account's CRM mapping")
    account = Account.objects.select_for_update().get(pk=account.pk)
    before = {"crm": _crm_snapshot(account)}
    external_id = (external_id or "").strip()
    company_name = " ".join((company_name or "").split())
    if external_id:
        if provider not in CrmProvider.values:
            allowed = ", ".join(CrmProvider.values)
            raise InvalidInput(f"Pick a CRM: one of {allowed}.", field="crm_provider")
        if len(external_id) > (CRM_EXTERNAL_ID.max_length or 0):
            raise InvalidInput(
                f"A CRM id is at most {CRM_EXTERNAL_ID.max_length} characters.",
                field="crm_external_id",
            )
        if conflict := _crm_link_conflict(provider, external_id, exclude=account.pk):
            raise conflict
        if (account.crm_provider, account.crm_external_id) != (provider, external_id):
            # A new company: nothing is synced from it until a sync has run.
            account.crm_sync_status = CrmSyncStatus.MAPPED
            account.crm_sync_error = ""
            account.crm_last_synced_at = None
        account.crm_provider = provider
        account.crm_external_id = external_id
        account.crm_company_name = company_name[: CRM_COMPANY_NAME.max_length]
    else:
        account.crm_provider = ""
        account.crm_external_id = ""
        account.crm_company_name = ""
        account.crm_sync_status = CrmSyncStatus.NOT_MAPPED
        account.crm_sync_error = ""
        account.crm_last_synced_at = None
    try:
        with transaction.atomic():
            account.save()
    except IntegrityError:
        # Another mapping of the same company committed after the check above.
        if external_id and (
            conflict := _crm_link_conflict(provider, external_id, exclude=account.pk)
        ):
            raise conflict from None
        raise
    account_refresh_denormalized([account.pk])
    audit_record(
        actor=actor,
        action="account.crm_mapping",
        obj=account,
        changes=audit_changes(before, {"crm": _crm_snapshot(account)}),
    )
    return account


def _crm_link_conflict(provider: str, external_id: str, *, exclude: int) -> Conflict | None:
    other = (
        Account.objects.filter(crm_provider=provider, crm_external_id=external_id)
        .exclude(pk=exclude)
        .first()
    )
    if other is None:
        return None
    return Conflict(
        f"CRM company {external_id} is already mapped to the account “{other.name}” "
        f"(id {other.pk}).",
        field="crm_external_id",
    )


def account_record_crm_sync(
    *, account: Account, ok: bool, error: str = "", at: datetime.datetime | None = None
) -> None:
    """Record the outcome of a CRM sync for a mapped account."""
    Account.objects.filter(pk=account.pk).exclude(crm_external_id="").update(
        crm_sync_status=CrmSyncStatus.SYNCED if ok else CrmSyncStatus.FAILING,
        crm_sync_error="" if ok else error[:2000],
        crm_last_synced_at=at or timezone.now(),
    )


@transaction.atomic
def account_delete(*, actor: User, account: Account) -> None:
    """Delete an account with its domains, memberships and field values."""
    user_require_admin(actor, "delete an account")
    audit_record(
        actor=actor,
        action="account.delete",
        obj=account,
        changes=audit_changes(_identity_snapshot(account), {}),
    )
    account.delete()


@dataclass(frozen=True)
class CrmLink:
    """A CRM mapping as the API gives it: provider, company id and name ("" unmaps)."""

    provider: str = ""
    external_id: str = ""
    company_name: str = ""


@transaction.atomic
def account_create_with(
    *,
    actor: User,
    crm: CrmLink | None = None,
    fields: Mapping[str, Any] | None = None,
    **create: Any,
) -> Account:
    """Create an account with its CRM mapping and field values, all or nothing."""
    account = account_create(actor=actor, **create)
    if fields:
        account_set_field_values(actor=actor, account=account, values=fields)
    if crm is not None:
        account = account_set_crm_mapping(
            actor=actor,
            account=account,
            provider=crm.provider,
            external_id=crm.external_id,
            company_name=crm.company_name,
        )
    return account


@transaction.atomic
def account_change(
    *,
    actor: User,
    account: Account,
    changes: Mapping[str, Any],
    crm: CrmLink | None = None,
    crm_given: bool = False,
    fields: Mapping[str, Any] | None = None,
) -> Account:
    """Change an account's identity, metadata, CRM mapping and fields, all or nothing.

    With *crm_given*, *crm* None unmaps the account from the CRM.
    """
    if changes.get("name", "") is None:
        raise InvalidInput("name cannot be null.", field="name")
    if changes:
        account = account_update(actor=actor, account=account, **changes)
    if crm_given:
        crm = crm or CrmLink()
        account = account_set_crm_mapping(
            actor=actor,
            account=account,
            provider=crm.provider,
            external_id=crm.external_id,
            company_name=crm.company_name,
        )
    if fields:
        account_set_field_values(actor=actor, account=account, values=fields)
    return account
