"""Plan the demo accounts: pure, deterministic data drawn from a seeded generator.

Planning is kept apart from writing so the same seed always yields the same companies,
domains, contacts and CRM mix, and the loader can tell which planned accounts exist.
"""

import datetime
import random
import re
import string
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from faker import Faker

from rapport.accounts.models import AccountSource, AccountStatus, ContactKind
from rapport.demo.catalog import (
    ACCOUNT_NOTES,
    CONTACT_TITLES,
    CRM_SYNC_ERRORS,
    INDUSTRIES,
    LEGAL_SUFFIXES,
    LIFECYCLE_STAGES,
    OWNERS_BY_TIER,
    REGIONS,
    SEGMENT_BY_TIER,
    SUCCESS_PLANS,
    TOP_LEVEL_DOMAINS,
)

# (tier, share, employee range, ARR range in dollars, contacts range)
TIER_PROFILES = (
    ("Enterprise", 20, (1_000, 60_000), (150_000, 1_500_000), (3, 8)),
    ("Mid-Market", 35, (200, 999), (40_000, 200_000), (2, 6)),
    ("SMB", 45, (10, 199), (5_000, 45_000), (1, 4)),
)
CONTACT_KIND_WEIGHTS = (
    (ContactKind.CRM_CONTACT, 5),
    (ContactKind.PRODUCT_USER, 3),
    (ContactKind.CUSTOMER, 2),
)
STATUS_WEIGHTS = (
    (AccountStatus.COMPLETED, 63),
    (AccountStatus.ACTIVE, 11),
    (AccountStatus.PENDING_HANDOFF, 3),
    (AccountStatus.AT_RISK, 10),
    (AccountStatus.CHURNED, 5),
)


@dataclass(frozen=True)
class ContactPlan:
    name: str
    email: str
    title: str
    kind: str


@dataclass(frozen=True)
class ChannelPlan:
    name: str
    slack_channel_id: str


@dataclass(frozen=True)
class CrmPlan:
    external_id: str
    company_name: str
    ok: bool
    error: str
    synced_minutes_ago: int


@dataclass
class AccountPlan:
    """Everything the loader needs to create one demo account."""

    name: str
    domain: str
    secondary_domains: list[str]
    tier: str
    industry: str
    employee_count: int
    arr: Decimal | None
    close_date: datetime.date | None
    status: str
    source: str
    website: str
    notes: str
    owner_email: str | None
    contacts: list[ContactPlan]
    channel: ChannelPlan | None
    crm: CrmPlan | None
    crm_values: dict[str, Any] = field(default_factory=dict)
    rapport_values: dict[str, Any] = field(default_factory=dict)


def _weighted(rng: random.Random, pairs: tuple[tuple[Any, int], ...]) -> Any:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.lower())


def _company_name(fake: Faker, rng: random.Random, industry: str) -> str:
    # Half the names read like a firm ("Lewis, Miller and Barnes"), half like a product
    # company of the industry ("Serrano Logistics").
    if rng.random() < 0.5:
        return str(fake.company())
    return f"{fake.last_name()} {rng.choice(INDUSTRIES[industry])}"


def _domain_stem(name: str) -> str:
    words = [w for w in re.findall(r"[a-z0-9]+", name.lower()) if w not in LEGAL_SUFFIXES]
    return "".join(words[:2]) or _slug(name)


def _slack_id(rng: random.Random) -> str:
    return "C0" + "".join(rng.choices(string.ascii_uppercase + string.digits, k=9))


def demo_account_plans(seed: int, count: int, *, today: datetime.date) -> list[AccountPlan]:
    """Return *count* demo accounts planned from *seed*; the same inputs give the same plans."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not secrets; it must be reproducible
    fake = Faker("en_US")
    fake.seed_instance(seed)
    sales_reps = [fake.name() for _ in range(6)]
    plans: list[AccountPlan] = []
    names: set[str] = set()
    domains: set[str] = set()
    crm_ids = rng.sample(range(4_000_000_000, 9_999_999_999), count)
    channels: list[ChannelPlan] = []
    # Exactly 55% of the accounts sync with the CRM, 10% are mapped but failing, the
    # rest are not mapped; only unmapped accounts can be prospects.
    synced, failing_count = round(count * 0.55), round(count * 0.10)
    crm_states = ["synced"] * synced + ["failing"] * failing_count
    crm_states += ["none"] * (count - len(crm_states))
    rng.shuffle(crm_states)
    while len(plans) < count:
        industry = rng.choice(list(INDUSTRIES))
        name = _company_name(fake, rng, industry)
        stem = _domain_stem(name)
        domain = f"{stem}.{_weighted(rng, TOP_LEVEL_DOMAINS)}"
        if name in names or domain in domains or len(stem) < 3:
            continue
        names.add(name)
        domains.add(domain)
        index = len(plans)

        tier, _, employees, arr_range, contact_range = rng.choices(
            TIER_PROFILES, weights=[p[1] for p in TIER_PROFILES]
        )[0]
        status = _weighted(rng, STATUS_WEIGHTS)
        if crm_states[index] == "none" and rng.random() < 0.23:
            status = AccountStatus.NONE
        prospect = status == AccountStatus.NONE
        if status in (AccountStatus.ACTIVE, AccountStatus.PENDING_HANDOFF):
            close_date = today - datetime.timedelta(days=rng.randint(3, 60))
        else:
            close_date = today - datetime.timedelta(days=rng.randint(60, 3 * 365))
        arr = Decimal(rng.randrange(*arr_range, 500))

        secondary: list[str] = []
        if rng.random() < 0.3:
            tld = domain.rsplit(".", 1)[1]
            options = [f"get{stem}.com", f"{stem}-eu.com", f"{stem}app.com", f"{stem}.co.uk"]
            if tld != "io":
                options.append(f"{stem}.io")
            extra = rng.choice(options)
            if extra not in domains:
                domains.add(extra)
                secondary.append(extra)

        contacts: list[ContactPlan] = []
        emails: set[str] = set()
        for _ in range(rng.randint(*contact_range)):
            first, last = fake.first_name(), fake.last_name()
            local = rng.choice((f"{first}.{last}", first, f"{first[0]}{last}"))
            email = f"{re.sub(r'[^a-z.]', '', local.lower())}@{domain}"
            if email in emails:
                continue
            emails.add(email)
            kind = _weighted(rng, CONTACT_KIND_WEIGHTS)
            contacts.append(ContactPlan(f"{first} {last}", email, rng.choice(CONTACT_TITLES), kind))

        channel: ChannelPlan | None = None
        if not prospect and rng.random() < 0.62:
            if channels and rng.random() < 0.03:
                # A sister company joins the channel of another account.
                channel = rng.choice(channels)
            else:
                channel = ChannelPlan(f"ext-{_slug(name)[:70]}", _slack_id(rng))
                channels.append(channel)

        crm: CrmPlan | None = None
        if crm_states[index] != "none":
            failing = crm_states[index] == "failing"
            company = name if rng.random() < 0.7 else f"{name.rstrip('.')}, Inc."
            crm = CrmPlan(
                external_id=str(crm_ids[index]),
                company_name=company,
                ok=not failing,
                error=rng.choice(CRM_SYNC_ERRORS) if failing else "",
                synced_minutes_ago=rng.randint(2, 60 * 24 * (6 if failing else 2)),
            )
        source = (
            AccountSource.CRM
            if crm and rng.random() < 0.6
            else _weighted(
                rng,
                (
                    (AccountSource.SLACK, 4),
                    (AccountSource.MANUAL, 3),
                    (AccountSource.EMAIL, 2),
                    (AccountSource.IMPORT, 2),
                    (AccountSource.WEB_CHAT, 1),
                ),
            )
        )

        plan = AccountPlan(
            name=name,
            domain=domain,
            secondary_domains=secondary,
            tier=tier,
            industry=industry,
            employee_count=rng.randint(*employees),
            arr=None if prospect else arr,
            close_date=None if prospect else close_date,
            status=status,
            source=source,
            website=f"https://www.{domain}",
            notes=rng.choice(ACCOUNT_NOTES) if rng.random() < 0.2 else "",
            owner_email=None if rng.random() < 0.12 else rng.choice(OWNERS_BY_TIER[tier]),
            contacts=contacts,
            channel=channel,
            crm=crm,
        )
        if crm is not None:
            plan.crm_values = _crm_values(rng, plan, sales_reps, today)
        if not prospect and rng.random() < 0.55:
            plan.rapport_values = _rapport_values(rng, plan)
        plans.append(plan)
    return plans


def _crm_values(
    rng: random.Random, plan: AccountPlan, sales_reps: list[str], today: datetime.date
) -> dict[str, Any]:
    forced_stages: dict[str, str] = {
        AccountStatus.CHURNED: "Former customer",
        AccountStatus.AT_RISK: "Renewal",
    }
    stage = (
        forced_stages.get(plan.status)
        or rng.choices(LIFECYCLE_STAGES[:4], weights=(1, 12, 3, 2))[0]
    )
    values: dict[str, Any] = {
        "tier": plan.tier,
        "lifecycle_stage": stage,
        "region": rng.choices(REGIONS, weights=(55, 25, 12, 8))[0],
        "crm_owner": rng.choice(sales_reps),
    }
    if plan.close_date is not None and plan.status != AccountStatus.CHURNED:
        years = max(1, -(-(today - plan.close_date).days // 365))
        values["renewal_date"] = plan.close_date + datetime.timedelta(days=365 * years)
    if plan.arr is not None:
        # The CRM's figure drifts from ours now and then (an upsell booked on one side).
        drift = Decimal(1) if rng.random() < 0.8 else Decimal(rng.choice(("1.1", "0.9", "1.25")))
        values["crm_arr"] = (plan.arr * drift).quantize(Decimal(1))
    return values


def _rapport_values(rng: random.Random, plan: AccountPlan) -> dict[str, Any]:
    values: dict[str, Any] = {"segment": SEGMENT_BY_TIER[plan.tier]}
    if rng.random() < 0.6:
        values["success_plan"] = rng.choice(SUCCESS_PLANS)
    if plan.close_date is not None:
        values["kickoff_date"] = plan.close_date + datetime.timedelta(days=rng.randint(5, 21))
    seats = max(5, plan.employee_count // rng.choice((2, 4, 10, 20)))
    values["seats"] = min(seats, 5_000)
    return values
