"""Decide what confirming an upload would do with each row, before anything is written.

A row is an error (any cell refused, a duplicate within the file), a skip (its account
already has an onboarding plan), an update (an account with its domain, primary or
secondary, exists: the row onboards it and fills its empty fields), or a create. The
rules for finding the account are `onboarding_create`'s, so confirming writes what
onboarding each row by hand would.
"""

import dataclasses
import datetime
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from itertools import batched
from typing import Any

from rapport.accounts.models import Account
from rapport.accounts.selectors import account_ids_for_domains
from rapport.mapping.public_domains import domain_is_public
from rapport.mapping.selectors import mapping_settings_get
from rapport.onboarding.csv_rows import ParsedRow, RowValues
from rapport.onboarding.models import Plan
from rapport.onboarding.services import FILLED_FIELDS

LOOKUP_CHUNK = 500  # values per IN (...), well under SQLite's limit on parameters
WEBSITE_MAX = 200  # Account.website
_VALUE_NAMES = tuple(f.name for f in dataclasses.fields(RowValues))


@dataclass(frozen=True, slots=True)
class Existing:
    """An account that a row's domain finds, with what a row may fill in."""

    pk: int
    name: str
    filled: dict[str, Any]
    has_plan: bool


@dataclass(slots=True)
class RowPlan:
    """A row's outcome: create, update (with the fields it fills), skip or error."""

    outcome: str
    fields: list[str] = field(default_factory=list)
    reason: str = ""
    account_id: int | None = None


def domain_public_check() -> Callable[[str], bool]:
    """Return the test for mail domains that cannot identify a company, with the admins' edits.

    Read once per upload: the mapping settings are one row, the upload has many domains.
    """
    settings = mapping_settings_get()
    added = tuple(settings.public_domains_added)
    removed = tuple(settings.public_domains_removed)

    @cache
    def public(domain: str) -> bool:
        if domain_is_public(domain, added=added, removed=removed):
            return True
        # Webmail providers under many country domains (gmx.de, gmx.at), as csv_rows says.
        return "gmx" in domain.split(".")[:-1] and domain not in removed

    return public


def values_json(values: RowValues) -> dict[str, Any]:
    """Return a row's cleaned values as JSON: text, amounts as text, dates in ISO form."""
    data: dict[str, Any] = {}
    for name in _VALUE_NAMES:
        value = getattr(values, name)
        if value is None:
            continue
        if isinstance(value, Decimal):
            value = str(value)
        elif isinstance(value, datetime.date):
            value = value.isoformat()
        data[name] = value
    return data


def row_refine(row: ParsedRow, public: Callable[[str], bool]) -> None:
    """Refuse what csv_rows accepts but an account cannot hold.

    A website whose domain is a public mail provider's cannot be the company's; a
    website longer than the account's column holds is refused rather than cut.
    """
    values = row.values
    if values.company_name:
        # Account names are one line (`accounts.specs.NAME` collapses line breaks).
        values.company_name = " ".join(values.company_name.split())
    if values.primary_contact_email:
        values.primary_contact_email = values.primary_contact_email.lower()
    if values.ae_email:
        values.ae_email = values.ae_email.lower()
    if values.website and "website" not in row.errors:
        if len(values.website) > WEBSITE_MAX:
            row.errors["website"] = f"Keep the website under {WEBSITE_MAX} characters."
        elif row.domain is not None and public(row.domain):
            row.errors["website"] = (
                f"{row.domain} is a public mail provider's domain, not the company's website."
            )


def accounts_existing(domains: Iterable[str]) -> dict[str, Existing]:
    """Return the account each domain finds: the one with it as primary domain, else the
    first (by id) with it as a secondary domain, as `onboarding_create` finds it."""
    found = account_ids_for_domains(domains)
    rows: dict[int, tuple[Any, ...]] = {}
    columns = ("id", "primary_domain", "name", *FILLED_FIELDS)
    for ids in batched(sorted(set(found.values())), LOOKUP_CHUNK):
        for row in Account.objects.filter(pk__in=ids).order_by().values_list(*columns):
            rows[row[0]] = row
    planned: set[int] = set()
    for ids in batched(sorted(rows), LOOKUP_CHUNK):
        planned.update(Plan.objects.filter(account_id__in=ids).values_list("account_id", flat=True))
    return {
        domain: Existing(
            pk=pk,
            name=rows[pk][2],
            filled=dict(zip(FILLED_FIELDS, rows[pk][3:], strict=True)),
            has_plan=pk in planned,
        )
        for domain, pk in found.items()
    }


def fields_to_fill(values: dict[str, Any], account: dict[str, Any]) -> list[str]:
    """Return the fields a row fills on an account: the row has a value, the account none."""
    return [
        name
        for name in FILLED_FIELDS
        if values.get(name) not in (None, "") and account.get(name) in (None, "")
    ]


def row_plan(values: dict[str, Any], errors: dict[str, str], existing: Existing | None) -> RowPlan:
    """Return what confirming does with one row."""
    if errors:
        return RowPlan("error")
    if existing is None:
        return RowPlan("create")
    if existing.has_plan:
        return RowPlan(
            "skip",
            reason=f"The account “{existing.name}” (id {existing.pk}) has an onboarding plan "
            "already.",
            account_id=existing.pk,
        )
    return RowPlan("update", fields_to_fill(values, existing.filled), account_id=existing.pk)


def rows_refine(rows: Sequence[ParsedRow], public: Callable[[str], bool]) -> dict[str, Existing]:
    """Refine the rows (`row_refine`) and return the existing account each domain finds."""
    for row in rows:
        row_refine(row, public)
    return accounts_existing(row.domain for row in rows if row.ok and row.domain)


def rows_planned(
    rows: Sequence[ParsedRow], existing: dict[str, Existing]
) -> Iterator[tuple[ParsedRow, dict[str, Any], RowPlan]]:
    """Yield each row with its values as JSON and its outcome."""
    for row in rows:
        values = values_json(row.values)
        found = existing.get(row.domain) if row.domain else None
        yield row, values, row_plan(values, row.errors, found)
