"""Seed the benchmark database with a large, realistic directory, fast.

Members, fields and the column preference go through the real services; the bulk rows
(accounts, domains, contacts, memberships, field values, channels) are inserted in
batches in one transaction, with the denormalized columns the services keep
(`Account.contact_count`, `Account.search_text`) computed by the function they use.
"""

import datetime
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import batched
from typing import Any

from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.utils import timezone
from faker import Faker

from bench.database import bench_marker_write, progress
from rapport.accounts.models import (
    Account,
    AccountContact,
    AccountDomain,
    AccountSource,
    AccountStatus,
    Contact,
    ContactKind,
    CrmSyncStatus,
    FieldDefinition,
    FieldType,
    FieldValue,
)
from rapport.accounts.services import account_search_text
from rapport.accounts.services_fields import field_definition_create
from rapport.demo.catalog import (
    CONTACT_TITLES,
    CRM_SYNC_ERRORS,
    FIELDS,
    INDUSTRIES,
    LIFECYCLE_STAGES,
    REGIONS,
    SEGMENT_BY_TIER,
    SUCCESS_PLANS,
)
from rapport.demo.plans import TIER_PROFILES
from rapport.directory.services import directory_columns_save
from rapport.inbox.models import Channel, ChannelAccount
from rapport.users.models import Role, User
from rapport.users.services import user_create

SEED_VERSION = 4
SEED = 20240611
OWNER_COUNT = 20
CONTACTS_PER_ACCOUNT = 3
BENCH_ADMIN_EMAIL = "bench-admin@example.com"
# The columns the benchmark's admin shows: the defaults plus secondary domains and three
# extra fields, so the page renders every kind of related row.
BENCH_COLUMNS = [
    "name",
    "contacts",
    "primary_domain",
    "secondary_domains",
    "slack_channel",
    "owner",
    "crm_company",
    "crm_status",
    "field.tier",
    "field.renewal_date",
    "field.crm_arr",
]
CRM_MIX = ((CrmSyncStatus.SYNCED, 55), (CrmSyncStatus.FAILING, 10), (CrmSyncStatus.NOT_MAPPED, 35))
STATUS_MIX = (
    (AccountStatus.COMPLETED, 68),
    (AccountStatus.ACTIVE, 8),
    (AccountStatus.PENDING_HANDOFF, 2),
    (AccountStatus.AT_RISK, 10),
    (AccountStatus.CHURNED, 5),
    (AccountStatus.NONE, 7),
)
TOP_LEVEL_DOMAINS = (("com", 70), ("io", 12), ("co", 8), ("ai", 5), ("net", 5))
LEGAL_FORMS = ("Inc", "Group", "LLC", "PLC", "Ltd")
UNMAPPED_SOURCES = [s for s in AccountSource.values if s != AccountSource.CRM]
# The columns each bulk table is written with, in the order of the generated tuples.
COLUMNS: dict[type[models.Model], tuple[str, ...]] = {
    Account: (
        "id",
        "name",
        "primary_domain",
        "logo",
        "owner",
        "status",
        "source",
        "industry",
        "employee_count",
        "arr",
        "close_date",
        "website",
        "notes",
        "external_ref",
        "tier",
        "crm_provider",
        "crm_external_id",
        "crm_company_name",
        "crm_sync_status",
        "crm_last_synced_at",
        "crm_sync_error",
        "contact_count",
        "search_text",
        "created_at",
        "updated_at",
    ),
    AccountDomain: ("id", "account", "domain", "created_at"),
    Contact: ("id", "email", "name", "title", "kind", "created_at"),
    AccountContact: ("id", "account", "contact", "created_at"),
    FieldValue: ("id", "account", "field", "value_text", "value_number", "value_date"),
    Channel: ("id", "slack_team_id", "slack_channel_id", "name", "is_private", "created_at"),
    ChannelAccount: ("id", "channel", "account", "created_at"),
}


def bench_seed_marker(accounts: int) -> str:
    """Name the seed a database holds: its version and its size."""
    return f"v{SEED_VERSION}:{accounts}"


def _weighted(rng: random.Random, pairs: Sequence[tuple[Any, int]]) -> Any:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


class DirectoryRows:
    """Generate the rows of a large directory from one seeded random generator."""

    def __init__(
        self, *, seed: int, owners: list[User], fields: dict[str, FieldDefinition]
    ) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - benchmark data, reproducible on purpose
        fake = Faker("en_US")
        fake.seed_instance(seed)
        self.first_names = sorted({fake.first_name() for _ in range(6000)})
        self.last_names = sorted({fake.last_name() for _ in range(6000)})
        self.sales_reps = [fake.name() for _ in range(12)]
        self.owner_ids = [owner.pk for owner in owners]
        self.fields = fields
        self.now = timezone.now()
        self.today = timezone.localdate(self.now)
        self.now_db = connection.ops.adapt_datetimefield_value(self.now)
        self.stems: set[str] = set()
        self.rows: dict[type[models.Model], list[tuple[Any, ...]]] = {m: [] for m in COLUMNS}

    def _datetime(self, value: datetime.datetime) -> Any:
        return connection.ops.adapt_datetimefield_value(value)

    def _date(self, value: datetime.date) -> Any:
        return connection.ops.adapt_datefield_value(value)

    def _company(self, industry: str) -> tuple[str, str]:
        """Return a company name and the stem of its domain, unique among the accounts."""
        rng, last = self.rng, self.last_names
        roll = rng.random()
        if roll < 0.5:
            words = [rng.choice(last), rng.choice(INDUSTRIES[industry])]
            name = " ".join(words)
        elif roll < 0.7:
            words = [rng.choice(last)]
            name = f"{words[0]} {rng.choice(LEGAL_FORMS)}"
        elif roll < 0.85:
            words = [rng.choice(last), rng.choice(last)]
            name = "-".join(words)
        else:
            words = [rng.choice(last), rng.choice(last), rng.choice(last)]
            name = f"{words[0]}, {words[1]} and {words[2]}"
        stem = "".join(ch for ch in "".join(words[:2]).lower() if ch.isalnum())
        if stem in self.stems:
            stem = f"{stem}{len(self.stems)}"
        self.stems.add(stem)
        return name, stem

    def account_add(self, account_id: int) -> None:
        """Generate one account with its domain, contacts, field values and channel."""
        rng = self.rng
        industry = rng.choice(list(INDUSTRIES))
        name, stem = self._company(industry)
        tld = _weighted(rng, TOP_LEVEL_DOMAINS)
        primary = f"{stem}.{tld}"
        secondary = f"{stem}-eu.com" if tld == "io" else f"{stem}.io"
        tier, _, employees, arr_range, _ = rng.choices(
            TIER_PROFILES, weights=[p[1] for p in TIER_PROFILES]
        )[0]
        arr = Decimal(rng.randrange(*arr_range, 100))
        close_date = self.today - datetime.timedelta(days=rng.randint(3, 4 * 365))
        crm_status = _weighted(rng, CRM_MIX)
        mapped = crm_status != CrmSyncStatus.NOT_MAPPED
        crm_company = (name if rng.random() < 0.7 else f"{name}, Inc.") if mapped else ""
        emails = self._contacts_add(account_id, primary)
        self.rows[AccountDomain].append((account_id, account_id, secondary, self.now_db))
        self.rows[Account].append(
            (
                account_id,
                name,
                primary,
                "",
                None if rng.random() < 0.1 else rng.choice(self.owner_ids),
                _weighted(rng, STATUS_MIX),
                AccountSource.CRM if mapped else rng.choice(UNMAPPED_SOURCES),
                industry,
                rng.randint(*employees),
                str(arr),
                self._date(close_date),
                f"https://www.{primary}",
                "",
                "",
                tier,
                "hubspot" if mapped else "",
                str(4_000_000_000 + account_id) if mapped else "",
                crm_company,
                crm_status,
                self._datetime(self.now - datetime.timedelta(minutes=rng.randint(1, 4000)))
                if mapped
                else None,
                rng.choice(CRM_SYNC_ERRORS) if crm_status == CrmSyncStatus.FAILING else "",
                len(emails),
                account_search_text(name, primary, [secondary], emails, crm_company),
                self._datetime(self.now - datetime.timedelta(days=rng.randint(0, 4 * 365))),
                self.now_db,
            )
        )
        self._field_values_add(account_id, tier, arr, close_date)
        if rng.random() < 0.6:
            self._channel_add(account_id, stem)

    def _contacts_add(self, account_id: int, domain: str) -> list[str]:
        rng = self.rng
        emails = []
        for k in range(CONTACTS_PER_ACCOUNT):
            first, last = rng.choice(self.first_names), rng.choice(self.last_names)
            local = (f"{first}.{last}", f"{first[0]}{last}", first)[k % 3]
            email = "".join(ch for ch in local.lower() if ch.isalnum() or ch == ".") + f"@{domain}"
            contact_id = (account_id - 1) * CONTACTS_PER_ACCOUNT + k + 1
            kind = rng.choice((ContactKind.CRM_CONTACT, ContactKind.PRODUCT_USER))
            self.rows[Contact].append(
                (
                    contact_id,
                    email,
                    f"{first} {last}",
                    rng.choice(CONTACT_TITLES),
                    kind,
                    self.now_db,
                )
            )
            self.rows[AccountContact].append((contact_id, account_id, contact_id, self.now_db))
            emails.append(email)
        return emails

    def _field_values_add(
        self, account_id: int, tier: str, arr: Decimal, close_date: datetime.date
    ) -> None:
        rng = self.rng
        years = 1 + (self.today - close_date).days // 365
        values: dict[str, Any] = {
            "tier": tier,
            "lifecycle_stage": rng.choices(LIFECYCLE_STAGES[:4], weights=(1, 12, 3, 2))[0],
            "region": rng.choices(REGIONS, weights=(55, 25, 12, 8))[0],
            "crm_owner": rng.choice(self.sales_reps),
            "renewal_date": close_date + datetime.timedelta(days=365 * years),
            "crm_arr": arr,
            "segment": SEGMENT_BY_TIER[tier],
            "success_plan": rng.choice(SUCCESS_PLANS),
            "kickoff_date": close_date + datetime.timedelta(days=rng.randint(5, 21)),
            "seats": Decimal(rng.randint(5, 2_000)),
        }
        rows = self.rows[FieldValue]
        for key, value in values.items():
            definition = self.fields[key]
            text = number = date = None
            if definition.type == FieldType.NUMBER:
                number = str(value)
            elif definition.type == FieldType.DATE:
                date = self._date(value)
            else:
                text = value
            rows.append((len(rows) + 1, account_id, definition.pk, text, number, date))

    def _channel_add(self, account_id: int, stem: str) -> None:
        channels, links = self.rows[Channel], self.rows[ChannelAccount]
        channel_id = len(channels) + 1
        channels.append(
            (
                channel_id,
                "T0RAPBENCH",
                f"C{channel_id:010d}",
                f"ext-{stem}"[:80],
                False,
                self.now_db,
            )
        )
        links.append((len(links) + 1, channel_id, account_id, self.now_db))
        if account_id > 1 and self.rng.random() < 0.01:
            # A shared channel: a sister company sits in the same channel.
            links.append((len(links) + 1, channel_id, account_id - 1, self.now_db))


def _column(model: type[models.Model], name: str) -> str:
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field) or not field.column:
        raise TypeError(f"{model.__name__}.{name} is not a concrete column.")
    return field.column


def _insert(
    model: type[models.Model], names: Sequence[str], rows: Iterable[tuple[Any, ...]]
) -> int:
    """Insert *rows* (values in the order of *names*) into *model*'s table in big batches.

    PostgreSQL gets COPY (executemany there costs a round trip per row); SQLite, in
    process, gets executemany.
    """
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    columns = ", ".join(qn(_column(model, name)) for name in names)
    total = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    total += 1
            return total
        placeholders = ", ".join(["%s"] * len(names))
        sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"
        for batch in batched(rows, 20_000):
            cursor.executemany(sql, batch)
            total += len(batch)
    return total


def _members() -> tuple[User, list[User]]:
    admin = user_create(email=BENCH_ADMIN_EMAIL, password=None, name="Bench Admin", role=Role.ADMIN)
    fake = Faker("en_US")
    fake.seed_instance(SEED)
    owners = []
    for index in range(OWNER_COUNT):
        name = fake.name()
        local = "".join(ch for ch in name.lower().replace(" ", ".") if ch.isalnum() or ch == ".")
        owners.append(user_create(email=f"{local}.{index}@example.com", password=None, name=name))
    return admin, owners


def _fields() -> dict[str, FieldDefinition]:
    return {
        spec.key: field_definition_create(
            actor=None,
            key=spec.key,
            label=spec.label,
            source=spec.source,
            type=spec.type,
            choices=spec.choices,
            crm_property=spec.crm_property,
        )
        for spec in FIELDS
    }


@dataclass
class SeedSummary:
    accounts: int
    rows: dict[str, int]


def bench_seed(accounts: int, *, seed: int = SEED) -> SeedSummary:
    """Fill an empty, migrated database with *accounts* accounts and what hangs off them."""
    with transaction.atomic():
        admin, owners = _members()
        fields = _fields()
        directory_columns_save(user=admin, columns=BENCH_COLUMNS)
        progress(f"bench: generating {accounts:,} accounts")
        generated = DirectoryRows(seed=seed, owners=owners, fields=fields)
        for account_id in range(1, accounts + 1):
            generated.account_add(account_id)
        progress("bench: inserting rows")
        counts = {
            model._meta.label: _insert(model, COLUMNS[model], generated.rows[model])
            for model in COLUMNS
        }
        # Rows came with their ids; move PostgreSQL's sequences past them.
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), list(COLUMNS)):
                cursor.execute(sql)
        bench_marker_write(bench_seed_marker(accounts))
    if connection.vendor == "postgresql":
        # Autovacuum would soon vacuum and analyze the new rows; do it now, so plans have
        # statistics and index-only scans find the pages all-visible, as on a live install.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    return SeedSummary(accounts=accounts, rows=counts)
