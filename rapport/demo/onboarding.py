"""The demo workspace's onboarding: the shipped templates, CSMs, and plans under way.

Accounts the demo plans as pending handoff or active get a plan through the real
services, from deal notes written from the account's facts; active ones have had their
handoff, and part of their tasks is done. Their plans are dated from the deal's close.
"""

import datetime
import random

from rapport.accounts.models import Account, AccountStatus
from rapport.onboarding.catalog import templates_ship
from rapport.onboarding.models import Plan, PlanSource
from rapport.onboarding.services import handoff_submit, milestone_due_dates, onboarding_create
from rapport.tasks.models import Task, TaskStatus
from rapport.tasks.services import task_complete
from rapport.users.models import User
from rapport.users.services import member_update

CSM_EMAILS = (
    "member@example.com",
    "priya.natarajan@example.com",
    "diego.alvarez@example.com",
    "olivia.brennan@example.com",
    "kenji.watanabe@example.com",
)
TEMPLATES_BY_SIZE = {
    "5000+": "Enterprise Implementation",
    "501-5000": "Enterprise Implementation",
    "1-50": "Quick Start",
}
COMPETITORS = ("a spreadsheet process", "Legacy Desk", "an in-house tool", "HelpHub")


def _deal_notes(rng: random.Random, account: Account, close: datetime.date) -> str:
    go_live = close + datetime.timedelta(days=rng.choice((30, 45, 60, 90)))
    users = rng.choice((15, 40, 120, 350, 900))
    sso = rng.random() < 0.5
    return " ".join(
        (
            f"{account.name} signed on {close.isoformat()} after a competitive evaluation.",
            f"They are replacing {rng.choice(COMPETITORS)}.",
            f"Go-live target is {go_live.isoformat()}.",
            f"About {users} users will use it in the first phase.",
            "They need SSO through Okta before launch." if sso else "SSO is not required for now.",
            "Main goal: cut the time to answer customer requests in half.",
        )
    )


def demo_onboarding_ensure(*, admin: User, seed: int, today: datetime.date) -> int:
    """Ship the templates, flag the demo CSMs, and give planned accounts their plans.

    Return how many plans were made; a second run makes none.
    """
    templates_ship(actor=None)
    csms = []
    for member in User.objects.filter(email__in=CSM_EMAILS).order_by("email"):
        if not member.is_csm:
            member = member_update(actor=admin, member=member, is_csm=True)
        csms.append(member)
    rng = random.Random(seed)  # noqa: S311 (demo data, not secrets)
    made = 0
    accounts = (
        Account.objects.filter(
            status__in=[AccountStatus.PENDING_HANDOFF, AccountStatus.ACTIVE],
            onboarding_plan__isnull=True,
        )
        .select_related("owner")
        .order_by("id")
    )
    for account in accounts:
        contact = account.contacts.order_by("id").first()
        if contact is None or account.arr is None or account.close_date is None:
            continue
        wanted = account.status
        close = account.close_date
        plan = onboarding_create(
            actor=admin,
            values={
                "company_name": account.name,
                "arr": account.arr,
                "close_date": close,
                "primary_contact_name": contact.name or contact.email.split("@")[0].title(),
                "primary_contact_email": contact.email,
                "primary_contact_role": contact.title,
                "template": TEMPLATES_BY_SIZE.get(account.company_size, "Standard SaaS Onboarding"),
                "ae_email": "deals@example.com",
                "website": f"https://{account.primary_domain}" if account.primary_domain else "",
                "raw_payload": _deal_notes(rng, account, close),
            },
            source=PlanSource.CRM,
        )
        _plan_date_from(plan, close)
        if wanted == AccountStatus.ACTIVE and csms:
            csm = account.owner if account.owner in csms else rng.choice(csms)
            handoff_submit(plan=plan, answers={}, csm=csm)
            _progress(rng, plan, today, admin)
        made += 1
    return made


def _plan_date_from(plan: Plan, start: datetime.date) -> None:
    """Date a demo plan from the deal's close, as if it had been made then (demo data only)."""
    Plan.objects.filter(pk=plan.pk).update(started_on=start)
    milestones = list(plan.plan_milestones.order_by("position"))
    for milestone, due in zip(milestones, milestone_due_dates(plan.milestones, start), strict=True):
        milestone.due_date = due
        milestone.save(update_fields=["due_date"])
        Task.objects.filter(milestone=milestone).update(due_date=due)


def _progress(rng: random.Random, plan: Plan, today: datetime.date, admin: User) -> None:
    """Complete most tasks that were due, and a few that were not, as a team would."""
    for task in Task.objects.filter(milestone__plan=plan).order_by("due_date", "position"):
        assert task.due_date is not None
        chance = 0.85 if task.due_date <= today else 0.15
        if rng.random() < chance and task.status == TaskStatus.OPEN:
            if task.customer_completable:
                task_complete(task=task, customer_label="Customer")
            else:
                task_complete(task=task, actor=admin)
