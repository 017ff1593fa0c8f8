"""Onboarding services: a new customer's account and plan, status, CSM and handoff."""

import datetime

import pytest
from django.utils import timezone

from rapport.accounts.models import Account, AccountStatus
from rapport.accounts.tests.factories import make_account
from rapport.audit.models import AuditEntry
from rapport.core.errors import Conflict, InvalidInput, NotFound
from rapport.onboarding.links import LinkClosed, link_open
from rapport.onboarding.models import AccessLink, AnswerSource, LinkKind, Plan
from rapport.onboarding.services import (
    account_csm_assign,
    account_status_change,
    handoff_reminders_send,
    handoff_submit,
    onboarding_domain,
)
from rapport.onboarding.services_templates import template_edit, template_find
from rapport.onboarding.tests.factories import make_onboarding
from rapport.outbox.models import OutboxItem
from rapport.tasks.models import Task, TaskStatus
from rapport.tasks.services import task_complete
from rapport.users.models import User

pytestmark = pytest.mark.django_db


def _emails_to(address: str) -> list[dict[str, object]]:
    return [
        item.payload
        for item in OutboxItem.objects.filter(action="email.send").order_by("id")
        if address in item.payload["to"]
    ]


def _token_in(body: str, kind: str) -> str:
    return body.split(f"/{kind}/", 1)[1].split("/", 1)[0]


def test_a_new_customer_gets_an_account_a_plan_drafted_answers_and_the_ae_email(
    member_user: User,
) -> None:
    plan = make_onboarding(member_user)
    account = plan.account
    assert (account.name, account.status, account.primary_domain) == (
        "Acme Corp",
        AccountStatus.PENDING_HANDOFF,
        "acme.example",
    )
    assert str(account.arr) == "50000.00" and account.close_date == datetime.date(2026, 11, 20)
    assert [c.email for c in account.contacts.all()] == ["jane@acme.example"]
    # The plan copies the template version: five milestones, due one after the other.
    milestones = list(plan.plan_milestones.all())
    assert [m.name for m in milestones][:2] == ["Kickoff", "Technical setup"]
    today = timezone.localdate()
    assert milestones[0].due_date == today + datetime.timedelta(days=5)
    assert milestones[1].due_date == today + datetime.timedelta(days=12)
    tasks = Task.objects.filter(account=account)
    assert tasks.count() == 15
    assert tasks.filter(customer_completable=True).count() == 5
    # Answers are drafted from the deal notes, citing the sentence they came from.
    answers = {a.key: a for a in plan.answers.all()}
    drafted = [a for a in answers.values() if a.answer]
    assert drafted and all(a.source == AnswerSource.OFFLINE for a in drafted)
    assert all(a.citation and a.citation in plan.raw_payload for a in drafted)
    # The AE's email carries a working handoff link.
    [email] = _emails_to("ae@rapport.example")
    assert "Acme Corp" in str(email["subject"])
    link = link_open(_token_in(str(email["body"]), "handoff"), LinkKind.HANDOFF)
    assert link.account == account


def test_the_domain_comes_from_the_website_else_a_company_email() -> None:
    assert onboarding_domain("https://www.Acme.com/about", "jane@other.example") == "acme.com"
    assert onboarding_domain("", "jane@beta.example") == "beta.example"


@pytest.mark.usefixtures("db")
def test_a_public_mail_contact_gives_no_domain() -> None:
    assert onboarding_domain("", "jane@gmail.com") is None
    plan = make_onboarding(primary_contact_email="jane@gmail.com", company_name="Solo Co")
    assert plan.account.primary_domain is None


def test_an_existing_account_with_the_domain_is_onboarded_not_duplicated(member_user: User) -> None:
    existing = make_account("Acme (old name)", domain="acme.example", industry="Retail")
    plan = make_onboarding(member_user, industry="Manufacturing")
    assert plan.account == existing
    assert Account.objects.count() == 1
    existing.refresh_from_db()
    assert existing.status == AccountStatus.PENDING_HANDOFF
    assert existing.industry == "Retail"  # an existing value is not overwritten
    assert str(existing.arr) == "50000.00"  # an empty one is filled
    with pytest.raises(Conflict, match="has an onboarding plan already"):
        make_onboarding(member_user)


def test_bad_values_are_refused_naming_the_field_and_nothing_is_written() -> None:
    with pytest.raises(InvalidInput) as error:
        make_onboarding(arr="lots")
    assert error.value.field == "arr"
    with pytest.raises(InvalidInput) as error:
        make_onboarding(primary_contact_email="not an email")
    assert error.value.field == "primary_contact_email"
    with pytest.raises(NotFound) as missing:
        make_onboarding(template="No such plan")
    assert missing.value.field == "template"
    assert not Account.objects.exists() and not OutboxItem.objects.exists()


def test_editing_the_template_leaves_existing_plans_as_they_were(admin_user: User) -> None:
    plan = make_onboarding(admin_user)
    template = template_find("standard saas onboarding")
    before = list(plan.plan_milestones.values_list("name", flat=True))
    version = template_edit(
        actor=admin_user,
        template=template,
        milestones=[{"name": "Only one", "due_days": 3, "tasks": [{"title": "Do it"}]}],
    )
    assert version.number == 2
    plan.refresh_from_db()
    assert (plan.version_number, list(plan.plan_milestones.values_list("name", flat=True))) == (
        1,
        before,
    )
    later = make_onboarding(admin_user, company_name="Beta", primary_contact_email="b@beta.example")
    assert [m.name for m in later.plan_milestones.all()] == ["Only one"]
    assert later.version_number == 2


def test_the_handoff_assigns_the_csm_activates_the_account_and_opens_the_portal(
    make_user: object,
) -> None:
    plan = make_onboarding()
    csm = User.objects.create_user("cleo@rapport.example", name="Cleo CSM", is_csm=True)
    handoff_submit(plan=plan, answers={"go_live_date": "2027-04-01"}, csm=csm)
    account = Account.objects.get(pk=plan.account_id)
    assert (account.status, account.csm) == (AccountStatus.ACTIVE, csm)
    assert plan.answers.get(key="go_live_date").source == AnswerSource.AE
    # The AE's link is spent; the customer got theirs; the CSM was told.
    assert not AccessLink.objects.filter(kind=LinkKind.HANDOFF, revoked_at__isnull=True).exists()
    [portal_email] = _emails_to("jane@acme.example")
    link = link_open(_token_in(str(portal_email["body"]), "portal"), LinkKind.PORTAL)
    assert link.account == account
    assert _emails_to("cleo@rapport.example")
    with pytest.raises(Conflict):
        handoff_submit(plan=plan, answers={}, csm=csm)


def test_a_revoked_or_expired_link_is_closed() -> None:
    plan = make_onboarding()
    [email] = _emails_to("ae@rapport.example")
    raw = _token_in(str(email["body"]), "handoff")
    AccessLink.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    with pytest.raises(LinkClosed, match="expired"):
        link_open(raw, LinkKind.HANDOFF)
    with pytest.raises(NotFound):
        link_open(raw + "x", LinkKind.HANDOFF)
    assert plan.pk


def test_a_status_change_with_a_note_is_in_the_history(member_user: User) -> None:
    plan = make_onboarding(member_user)
    account_status_change(
        actor=member_user, account=plan.account, status="at_risk", note="Champion left."
    )
    entry = AuditEntry.objects.filter(action="account.status").get()
    assert entry.changes == {
        "status": {"before": "pending_handoff", "after": "at_risk"},
        "note": {"before": None, "after": "Champion left."},
    }
    with pytest.raises(InvalidInput):
        account_status_change(actor=member_user, account=plan.account, status="onboarding")


def test_reassigning_the_csm_notifies_them_and_optionally_the_customer(member_user: User) -> None:
    plan = make_onboarding(member_user)
    first = User.objects.create_user("cleo@rapport.example", name="Cleo", is_csm=True)
    second = User.objects.create_user("sam@rapport.example", name="Sam", is_csm=True)
    account_csm_assign(account=plan.account, csm=first, actor=member_user)
    account_csm_assign(
        account=plan.account,
        csm=second,
        actor=member_user,
        notify_customer=True,
        note="Sam takes over EMEA.",
    )
    assert _emails_to("sam@rapport.example")
    [intro] = _emails_to("jane@acme.example")
    assert "Sam" in str(intro["body"]) and "Sam takes over EMEA." in str(intro["body"])
    with pytest.raises(InvalidInput):
        account_csm_assign(account=plan.account, csm=member_user, actor=member_user)


def test_a_customer_completes_only_their_own_tasks_and_the_milestone_follows(
    member_user: User,
) -> None:
    plan = make_onboarding(member_user)
    kickoff = plan.plan_milestones.get(position=0)
    theirs = kickoff.tasks.get(customer_completable=True)
    ours = kickoff.tasks.filter(customer_completable=False)
    task_complete(task=theirs, customer_label="Jane Smith (customer)")
    theirs.refresh_from_db()
    assert (theirs.status, theirs.completed_by_label) == (TaskStatus.DONE, "Jane Smith (customer)")
    from rapport.core.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        task_complete(task=ours.first())  # type: ignore[arg-type]
    for task in ours:
        task_complete(task=task, actor=member_user)
    kickoff.refresh_from_db()
    assert kickoff.completed_at is not None


def test_an_ae_who_has_not_submitted_is_reminded_with_a_new_link(settings: object) -> None:
    plan = make_onboarding()
    assert handoff_reminders_send() == 0  # not due yet
    Plan.objects.update(created_at=timezone.now() - datetime.timedelta(days=4))
    assert handoff_reminders_send() == 1
    assert handoff_reminders_send() == 0  # reminded just now
    emails = _emails_to("ae@rapport.example")
    assert len(emails) == 2 and "Reminder" in str(emails[1]["subject"])
    old = _token_in(str(emails[0]["body"]), "handoff")
    with pytest.raises(LinkClosed):
        link_open(old, LinkKind.HANDOFF)
    assert (
        link_open(_token_in(str(emails[1]["body"]), "handoff"), LinkKind.HANDOFF).account_id
        == plan.account_id
    )


def test_an_answer_to_a_question_the_notes_left_open_is_stored_as_the_aes() -> None:
    from rapport.onboarding.services import handoff_answers_save

    plan = make_onboarding(raw_payload="")
    assert not plan.answers.exists()  # nothing drafted, nothing stored
    handoff_answers_save(plan=plan, answers={"go_live_date": "2027-05-01", "primary_use_case": ""})
    [answer] = plan.answers.all()
    assert (answer.key, answer.answer, answer.source, answer.citation) == (
        "go_live_date",
        "2027-05-01",
        AnswerSource.AE,
        "",
    )
