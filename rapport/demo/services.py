"""Load the demo workspace through the real services.

The loader is idempotent: it plans the same accounts from the same seed every time,
creates only the members, fields, teams and accounts that are missing, and leaves
existing ones as they are (a demo user's edits survive `make run`).
"""

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from rapport.accounts.models import Account, FieldDefinition
from rapport.accounts.services import (
    account_create,
    account_record_crm_sync,
    account_set_crm_mapping,
    account_set_field_values,
    contact_add_to_account,
    field_definition_create,
)
from rapport.demo.catalog import (
    DEMO_ACCOUNT_COUNT,
    DEMO_PASSWORD,
    DEMO_SEED,
    FIELDS,
    MEMBERS,
    SLACK_TEAM_ID,
    TEAMS,
)
from rapport.demo.plans import AccountPlan, demo_account_plans
from rapport.inbox.services import channel_create, channel_set_accounts
from rapport.users.models import Team, User
from rapport.users.services import team_create, user_create


@dataclass
class DemoLoadResult:
    """What one run of the loader created."""

    members: int = 0
    fields: int = 0
    accounts: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.members or self.fields or self.accounts)


def demo_members_ensure() -> tuple[dict[str, User], int]:
    """Create the demo members and teams that are missing; return members by email."""
    existing = {u.email: u for u in User.objects.filter(email__in=[m.email for m in MEMBERS])}
    created = 0
    for member in MEMBERS:
        if member.email in existing:
            continue
        existing[member.email] = user_create(
            email=member.email,
            password=DEMO_PASSWORD if member.can_log_in else None,
            name=member.name,
            role=member.role,
        )
        created += 1
    known_teams = set(Team.objects.filter(name__in=list(TEAMS)).values_list("name", flat=True))
    for team_name, emails in TEAMS.items():
        if team_name not in known_teams:
            team_create(name=team_name, members=[existing[e] for e in emails])
    return existing, created


def demo_fields_ensure() -> int:
    """Define the demo's CRM and Rapport fields that are missing; return how many were new."""
    existing = set(
        FieldDefinition.objects.filter(key__in=[f.key for f in FIELDS]).values_list(
            "key", flat=True
        )
    )
    created = 0
    for spec in FIELDS:
        if spec.key in existing:
            continue
        field_definition_create(
            actor=None,
            key=spec.key,
            label=spec.label,
            source=spec.source,
            type=spec.type,
            choices=spec.choices,
            crm_property=spec.crm_property,
        )
        created += 1
    return created


def demo_account_create(
    plan: AccountPlan, *, members: dict[str, User], admin: User, now: datetime.datetime
) -> Account:
    """Create one planned account with its contacts, channel, CRM link and field values."""
    account = account_create(
        actor=None,
        name=plan.name,
        primary_domain=plan.domain,
        secondary_domains=plan.secondary_domains,
        owner=members[plan.owner_email] if plan.owner_email else None,
        source=plan.source,
        status=plan.status,
        industry=plan.industry,
        employee_count=plan.employee_count,
        arr=plan.arr,
        close_date=plan.close_date,
        website=plan.website,
        notes=plan.notes,
    )
    for contact in plan.contacts:
        contact_add_to_account(
            account=account,
            email=contact.email,
            name=contact.name,
            kind=contact.kind,
            title=contact.title,
        )
    if plan.channel is not None:
        channel = channel_create(
            slack_team_id=SLACK_TEAM_ID,
            slack_channel_id=plan.channel.slack_channel_id,
            name=plan.channel.name,
        )
        channel_set_accounts(
            actor=None, channel=channel, accounts=[*channel.accounts.all(), account]
        )
    if plan.crm is not None:
        account = account_set_crm_mapping(
            actor=None,
            account=account,
            provider="hubspot",
            external_id=plan.crm.external_id,
            company_name=plan.crm.company_name,
        )
        account_record_crm_sync(
            account=account,
            ok=plan.crm.ok,
            error=plan.crm.error,
            at=now - datetime.timedelta(minutes=plan.crm.synced_minutes_ago),
        )
        account_set_field_values(actor=None, account=account, values=plan.crm_values)
    if plan.rapport_values:
        account_set_field_values(actor=admin, account=account, values=plan.rapport_values)
    return account


@transaction.atomic
def demo_workspace_load(
    *, seed: int = DEMO_SEED, count: int = DEMO_ACCOUNT_COUNT, today: datetime.date | None = None
) -> DemoLoadResult:
    """Create whatever part of the demo workspace is missing; a second run changes nothing."""
    result = DemoLoadResult()
    members, result.members = demo_members_ensure()
    result.fields = demo_fields_ensure()
    now = timezone.now()
    plans = demo_account_plans(seed, count, today=today or timezone.localdate(now))
    existing = set(
        Account.objects.filter(primary_domain__in=[p.domain for p in plans]).values_list(
            "primary_domain", flat=True
        )
    )
    admin = members[MEMBERS[0].email]
    for plan in plans:
        if plan.domain in existing:
            continue
        demo_account_create(plan, members=members, admin=admin, now=now)
        result.accounts += 1
    return result
