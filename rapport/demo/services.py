"""Load the demo workspace through the real services.

The loader is idempotent: it plans the same accounts from the same seed every time,
creates only the members, fields, teams and accounts that are missing, and leaves
existing ones as they are (a demo user's edits survive `make run`).
"""

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from rapport.accounts.models import Account, FieldDefinition
from rapport.accounts.services import (
    account_create,
    account_record_crm_sync,
    account_set_crm_mapping,
)
from rapport.accounts.services_contacts import contact_add_to_account
from rapport.accounts.services_fields import account_set_field_values, field_definition_create
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
from rapport.inbox.ingest import inbound_events_process
from rapport.inbox.models import Conversation, InboundEvent, Message, Source
from rapport.inbox.services import channel_create, channel_set_accounts, inbound_event_store
from rapport.mapping.models import MappingDecision, MappingMethod, MappingSettings
from rapport.mapping.services import (
    mapping_conflict_resolve,
    mapping_override,
    mapping_settings_update,
)
from rapport.users.models import Team, User
from rapport.users.services import team_create, user_create


@dataclass
class DemoLoadResult:
    """What one run of the loader created."""

    members: int = 0
    fields: int = 0
    accounts: int = 0
    plans: int = 0
    conversations: int = 0
    requests: int = 0

    @property
    def changed(self) -> bool:
        return bool(
            self.members
            or self.fields
            or self.accounts
            or self.plans
            or self.conversations
            or self.requests
        )


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
    from rapport.demo.onboarding import demo_onboarding_ensure

    result.plans = demo_onboarding_ensure(
        admin=admin, seed=seed, today=today or timezone.localdate(now)
    )
    result.conversations = demo_conversations_ensure(
        plans, admin=admin, member=members[MEMBERS[1].email], now=now
    )
    from rapport.demo.requests import demo_requests_ensure

    team = [members[m.email] for m in MEMBERS[:6]]
    result.requests = demo_requests_ensure(members=team, now=now)
    return result


# --- conversations -------------------------------------------------------------------------

SUBJECTS = (
    "SSO login loops back to the sign-in page",
    "Invoice shows the wrong number of seats",
    "CSV export times out for large reports",
    "Webhook deliveries failing since this morning",
    "How do we add a second workspace?",
    "Question about the renewal quote",
    "API rate limit hit during nightly sync",
    "Can we get a copy of the DPA?",
    "Dashboard widgets not loading in Safari",
    "Request: bulk edit for user roles",
    "Onboarding call follow-up",
    "Mobile app crashes on upload",
    "Need help mapping custom fields",
    "Password reset emails not arriving",
    "Feature request: scheduled exports",
)
BODIES = (
    "Hi team, since this morning a few of us cannot get past the login screen. Can you check?",
    "Hello! Could you take a look at this when you get a chance? Happy to jump on a call.",
    "We are blocked on this for our quarterly review on Friday. Any workaround would help.",
    "Quick question from our side, nothing urgent. Thanks in advance!",
    "Following up on our last call: could you send over the details we discussed?",
)
# People writing from the domains of companies the demo's customers acquired.
ACQUIRED_NAMES = ("Nora Quinn", "Liam Okonkwo", "Sofia Reyes")


@dataclass
class DemoTicket:
    """One demo conversation: what arrives on the API, and what a person does with it."""

    key: str
    email: str
    name: str = ""
    slack_channel: str = ""
    account_id: int | None = None
    move_to: Account | None = None
    resolve_to: Account | None = None
    days_ago: float = 0
    payload: dict[str, Any] = field(default_factory=dict)


def _demo_tickets(
    plans: list[AccountPlan], accounts: dict[str, Account]
) -> tuple[list[DemoTicket], list[DemoTicket]]:
    """Plan the demo conversations: those that arrive before and after auto-creation is on.

    Before: mail from two acquired companies' domains that people keep moving to the
    parent account (the report's override patterns), and mail from public domains.
    After: links by domain, Slack channel, contact, account id, created accounts and
    conflicts in a channel two accounts share.
    """
    with_contacts = [p for p in plans if p.contacts and p.domain in accounts]
    if len(with_contacts) < 60:
        return [], []  # a workspace this small has no story to tell
    channel_owners: dict[str, list[AccountPlan]] = {}
    for plan in plans:
        if plan.channel is not None and plan.domain in accounts:
            channel_owners.setdefault(plan.channel.name, []).append(plan)
    single = [(name, owners[0]) for name, owners in channel_owners.items() if len(owners) == 1]
    shared = [(name, owners) for name, owners in channel_owners.items() if len(owners) > 1]

    before: list[DemoTicket] = []
    for parent, stem, count in ((with_contacts[3], "acquired", 3), (with_contacts[11], "labs", 2)):
        domain = f"{parent.domain.split('.')[0]}-{stem}.com"
        for n in range(count):
            before.append(
                DemoTicket(
                    f"pattern-{stem}-{n}",
                    f"{ACQUIRED_NAMES[n].split()[0].lower()}@{domain}",
                    ACQUIRED_NAMES[n],
                    move_to=accounts[parent.domain],
                )
            )
    for n, email in enumerate(("jamie.r@gmail.com", "ops.lead@outlook.com", "k.tan@yahoo.com")):
        before.append(DemoTicket(f"public-{n}", email))

    after: list[DemoTicket] = []
    for n, plan in enumerate(with_contacts[20:34]):
        contact = plan.contacts[n % len(plan.contacts)]
        ticket = DemoTicket(f"domain-{n}", contact.email, contact.name)
        if n == 5:  # a one-off correction: no pattern
            ticket.move_to = accounts[with_contacts[40].domain]
        after.append(ticket)
    for n, (channel_name, _owner) in enumerate(single[:5]):
        after.append(
            DemoTicket(f"channel-{n}", f"slack.user{n}@gmail.com", slack_channel=channel_name)
        )
    for n, (channel_name, owners) in enumerate(shared[:2]):
        known = owners[n % len(owners)]
        if known.contacts:
            after.append(
                DemoTicket(
                    f"contact-{n}",
                    known.contacts[-1].email,
                    known.contacts[-1].name,
                    slack_channel=channel_name,
                )
            )
        for m in range(2 if n == 0 else 1):
            ticket = DemoTicket(
                f"conflict-{n}-{m}", f"guest{m}.{n}@gmail.com", slack_channel=channel_name
            )
            if n == 0 and m == 1:
                ticket.resolve_to = accounts[owners[1].domain]
            after.append(ticket)
    for n, plan in enumerate(with_contacts[50:52]):
        after.append(
            DemoTicket(
                f"account-id-{n}",
                f"billing@{plan.domain}",
                account_id=accounts[plan.domain].pk,
            )
        )
    for n, domain in enumerate(
        ("northwind-analytics.com", "bluepeak.io", "quillstack.dev", "orbitfreight.co")
    ):
        after.append(DemoTicket(f"created-{n}", f"hello@{domain}", "New prospect"))
    return before, after


def _demo_tickets_ingest(tickets: list[DemoTicket]) -> list[tuple[DemoTicket, int]]:
    """Send *tickets* down the real ingest path; return the new ones with their event ids."""
    fresh: list[tuple[DemoTicket, int]] = []
    for n, ticket in enumerate(tickets):
        payload = {
            "requester_email": ticket.email,
            "requester_name": ticket.name,
            "account_id": ticket.account_id,
            "customer_ref": "",
            "slack_channel": ticket.slack_channel,
            "subject": SUBJECTS[(len(ticket.key) + n) % len(SUBJECTS)],
            "body": BODIES[n % len(BODIES)],
        }
        event, created = inbound_event_store(
            source=Source.API, external_id=f"demo-{ticket.key}", payload=payload
        )
        if created:
            fresh.append((ticket, event.pk))
    if fresh:
        inbound_events_process([event_id for _, event_id in fresh])
    return fresh


def demo_conversations_ensure(
    plans: list[AccountPlan], *, admin: User, member: User, now: datetime.datetime
) -> int:
    """Seed about forty conversations through the ingest path; return how many were new.

    Automatic account creation is turned on here the first time only, so a demo admin
    who turns it off keeps it off.
    """
    accounts = {
        a.primary_domain or "": a
        for a in Account.objects.filter(primary_domain__in=[p.domain for p in plans])
    }
    before, after = _demo_tickets(plans, accounts)
    fresh = _demo_tickets_ingest(before)
    if not MappingSettings.objects.exists():
        mapping_settings_update(actor=admin, auto_create_accounts=True)
    fresh += _demo_tickets_ingest(after)
    if not fresh:
        return 0
    conversations = {
        c.thread_key: c
        for c in Conversation.objects.filter(
            source=Source.API, thread_key__in=[f"demo-{t.key}" for t, _ in fresh]
        ).select_related("account")
    }
    spread = [(t, conversations[f"demo-{t.key}"]) for t, _ in fresh]
    for n, (ticket, conversation) in enumerate(spread):
        ticket.days_ago = (n * 11 % 28) + (n % 5) / 5
        if ticket.move_to is not None and ticket.move_to != conversation.account:
            mapping_override(actor=member, conversation=conversation, account=ticket.move_to)
        if ticket.resolve_to is not None:
            conflict = MappingDecision.objects.get(conversation=conversation)
            mapping_conflict_resolve(actor=member, decision=conflict, account=ticket.resolve_to)
    _demo_history_backdate(spread, now=now)
    return len(fresh)


def _demo_history_backdate(
    spread: list[tuple[DemoTicket, Conversation]], *, now: datetime.datetime
) -> None:
    """Spread the seeded conversations over the last four weeks.

    Demo data only: the ingest path stamps everything with the current time, and the
    mapping report's decisions-by-day chart needs a history to show. A person's
    correction is dated a few hours after the automatic decision it replaced.
    """
    for ticket, conversation in spread:
        at = now - datetime.timedelta(days=ticket.days_ago, hours=1)
        later = min(at + datetime.timedelta(hours=3), now)
        InboundEvent.objects.filter(source=Source.API, external_id=f"demo-{ticket.key}").update(
            received_at=at, processed_at=at
        )
        Message.objects.filter(conversation=conversation).update(sent_at=at)
        Conversation.objects.filter(pk=conversation.pk).update(created_at=at, last_message_at=at)
        decisions = MappingDecision.objects.filter(conversation=conversation)
        decisions.filter(~Q(method=MappingMethod.MANUAL)).update(created_at=at)
        decisions.filter(method=MappingMethod.MANUAL).update(created_at=later)
