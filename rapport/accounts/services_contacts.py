"""Contacts: the people of an account, added by hand or in batches by ingest.

A person adding a contact is audited; ingest adding requesters is not.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import batched

from django.db import IntegrityError, transaction

from rapport.accounts.domains import domain_normalize
from rapport.accounts.models import (
    Account,
    AccountContact,
    Contact,
    ContactKind,
)
from rapport.accounts.services import account_contacts_counted, account_refresh_denormalized
from rapport.accounts.specs import CONTACT_EMAIL, CONTACT_NAME
from rapport.audit.services import audit_record
from rapport.core.errors import InvalidInput, NotFound
from rapport.users.models import User


def contact_normalize_email(email: str) -> str:
    email = (email or "").strip().lower()
    local, _, host = email.rpartition("@")
    if not local or not host:
        raise InvalidInput(f"{email!r} is not an email address.", field="email")
    try:
        normalized = f"{local}@{domain_normalize(host)}"
    except InvalidInput as exc:
        raise InvalidInput(exc.message, field="email") from None
    if len(normalized) > (CONTACT_EMAIL.max_length or 0):
        raise InvalidInput(
            f"An email address is at most {CONTACT_EMAIL.max_length} characters.", field="email"
        )
    return normalized


@transaction.atomic
def contact_add_to_account(
    *,
    account: Account,
    email: str,
    name: str = "",
    kind: str = ContactKind.CUSTOMER,
    title: str = "",
    actor: User | None = None,
) -> Contact:
    """Make the person with *email* a contact of *account*, creating the contact if new.

    A person adding a contact is audited; ingest adding requesters (actor None) is not,
    since the mapping decision already records it.
    """
    email = contact_normalize_email(email)
    contact_ids, linked = contacts_add_to_accounts(
        [ContactLink(account_id=account.pk, email=email, name=name, kind=kind, title=title)]
    )
    if linked and actor is not None:
        audit_record(
            actor=actor,
            action="account.contact_add",
            obj=account,
            changes={"contacts": {"before": None, "after": email}},
        )
    return Contact.objects.get(pk=contact_ids[email])


@dataclass(frozen=True)
class ContactLink:
    """One person to make a contact of one account; *email* is already normalized."""

    account_id: int
    email: str
    name: str = ""
    kind: str = ContactKind.CUSTOMER
    title: str = ""


CONTACT_CHUNK = 500  # rows per statement, well under SQLite's limit on parameters


@dataclass
class ContactsRead:
    """People and their links read before a write transaction (`contacts_read`)."""

    emails: set[str]  # the addresses looked up, found or not
    found: dict[str, tuple[int, str]]  # email -> (contact id, name)
    linked: set[tuple[int, int]]  # (account id, contact id) of the people found


def contacts_read(emails: Iterable[str]) -> ContactsRead:
    """Read the people with *emails* (normalized) and every account they are linked to."""
    read = ContactsRead(set(emails), {}, set())
    read.found = contacts_by_email(sorted(read.emails))
    ids = sorted(pk for pk, _ in read.found.values())
    for id_chunk in batched(ids, CONTACT_CHUNK):
        read.linked.update(
            AccountContact.objects.filter(contact_id__in=id_chunk)
            .order_by()
            .values_list("account_id", "contact_id")
        )
    return read


def contacts_by_email(emails: Sequence[str]) -> dict[str, tuple[int, str]]:
    """Return (id, name) of the people with *emails* (normalized), by email."""
    found: dict[str, tuple[int, str]] = {}
    for chunk in batched(emails, CONTACT_CHUNK):
        found.update(
            (email, (pk, name))
            for pk, email, name in Contact.objects.filter(email__in=chunk)
            .order_by()
            .values_list("pk", "email", "name")
        )
    return found


@transaction.atomic
def contacts_add_to_accounts(
    links: Sequence[ContactLink], *, read: ContactsRead | None = None
) -> tuple[dict[str, int], set[tuple[int, int]]]:
    """Apply *links* in order, as many `contact_add_to_account` calls would, in a few queries.

    A new person becomes a contact with the first name given for them; a known contact
    without a name takes the first name given. Return the contact ids by email and the
    (account id, contact id) pairs that were not linked before. The ingest path links a
    whole batch of requesters at once with it.

    *read* is what `contacts_read` found before the transaction, trusted for the people
    it looked up: one created or linked since trips a unique constraint, and the
    statement falls back to skipping what exists.
    """
    if not links:
        return {}, set()
    first: dict[str, ContactLink] = {}
    for link in links:
        first.setdefault(link.email, link)
    known: dict[str, tuple[int, str]] = {}  # email -> (id, name)
    if read is not None:
        known.update((e, read.found[e]) for e in first if e in read.found)
    known |= contacts_by_email([e for e in first if read is None or e not in read.emails])
    # New rows go in in a fixed order, so two transactions adding the same people wait
    # for each other rather than each holding what the other needs.
    missing = sorted(email for email in first if email not in known)
    created = _contacts_create([first[email] for email in missing], known)
    named: dict[int, str] = {}
    for link in links:
        pk, current = known[link.email]
        if link.name and not current:
            known[link.email] = (pk, link.name.strip()[: CONTACT_NAME.max_length])
            named[pk] = known[link.email][1]
    for pk, name in named.items():
        Contact.objects.filter(pk=pk).update(name=name)
    ids = {email: pk for email, (pk, _) in known.items()}
    pairs = list(dict.fromkeys((link.account_id, ids[link.email]) for link in links))
    account_ids = {account_id for account_id, _ in pairs}
    existing: set[tuple[int, int]] = set()
    # A person created just now is nobody's contact yet; the links of one read before
    # are known.
    settled = set(created)
    if read is not None:
        existing.update(pair for pair in pairs if pair in read.linked)
        settled |= {pk for e, (pk, _) in read.found.items() if e in first}
    older = sorted({contact_id for _, contact_id in pairs} - settled)
    for contact_ids in batched(older, CONTACT_CHUNK):
        existing.update(
            AccountContact.objects.filter(contact_id__in=contact_ids, account_id__in=account_ids)
            .order_by()
            .values_list("account_id", "contact_id")
        )
    new = sorted(pair for pair in pairs if pair not in existing)
    if new:
        _links_create(new, {pk: email for email, pk in ids.items()})
    return ids, set(new)


def _links_create(pairs: list[tuple[int, int]], emails: dict[int, str]) -> None:
    """Link the (account id, contact id) *pairs*, none linked when read; keep the counts.

    The usual case, and the only one on SQLite, whose writers take turns: nobody linked
    them meanwhile, so each account's count and search text grow by its new contacts,
    in one statement per account. Otherwise the links another transaction made are
    skipped and the accounts are counted again.
    """
    rows = [AccountContact(account_id=a, contact_id=c) for a, c in pairs]
    try:
        with transaction.atomic():
            AccountContact.objects.bulk_create(rows, batch_size=CONTACT_CHUNK)
    except IntegrityError:
        AccountContact.objects.bulk_create(rows, batch_size=CONTACT_CHUNK, ignore_conflicts=True)
        account_refresh_denormalized(account_id for account_id, _ in pairs)
        return
    added: dict[int, list[str]] = {}
    for account_id, contact_id in pairs:
        added.setdefault(account_id, []).append(emails[contact_id])
    account_contacts_counted(added)


def _contacts_create(links: Sequence[ContactLink], known: dict[str, tuple[int, str]]) -> set[int]:
    """Create the people of *links* (in order, emails unique), adding them to *known*.

    Return the ids of those created here. New rows go in in a fixed order, so two
    transactions adding the same people wait for each other rather than each holding
    what the other needs; a person another transaction created since *known* was read
    is used as is.
    """
    if not links:
        return set()
    rows = [
        Contact(
            email=link.email,
            name=link.name.strip()[: CONTACT_NAME.max_length],
            kind=link.kind,
            title=link.title[:200],
        )
        for link in links
    ]
    try:
        # The usual case, and the only one on SQLite, whose writers take turns: nobody
        # added them meanwhile, and the insert returns their ids.
        with transaction.atomic():
            Contact.objects.bulk_create(rows, batch_size=CONTACT_CHUNK)
    except IntegrityError:
        Contact.objects.bulk_create(rows, batch_size=CONTACT_CHUNK, ignore_conflicts=True)
        known |= contacts_by_email([link.email for link in links])
        return set()
    known.update((row.email, (row.pk, row.name)) for row in rows)
    return {row.pk for row in rows}


@transaction.atomic
def contact_remove_from_account(*, actor: User, account: Account, contact: Contact) -> None:
    """Remove a contact from an account; the person stays a contact of their other accounts."""
    deleted, _ = AccountContact.objects.filter(account=account, contact=contact).delete()
    if not deleted:
        raise NotFound(f"{contact.email} is not a contact of {account.name}.")
    account_refresh_denormalized([account.pk])
    audit_record(
        actor=actor,
        action="account.contact_remove",
        obj=account,
        changes={"contacts": {"before": contact.email, "after": None}},
    )
