"""Onboarding pages, through the test client: members' pages and the signed-link pages."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from rapport.accounts.models import Account, AccountStatus
from rapport.onboarding.catalog import templates_ship
from rapport.onboarding.models import Template
from rapport.onboarding.services_templates import template_edit
from rapport.onboarding.tests.factories import make_onboarding
from rapport.outbox.models import OutboxItem
from rapport.tasks.models import TaskStatus
from rapport.users.models import User

pytestmark = pytest.mark.django_db


def _text(response: object) -> str:
    return re.sub(r"\s+", " ", response.content.decode())  # type: ignore[attr-defined]


def _link(address: str, kind: str) -> str:
    for item in OutboxItem.objects.filter(action="email.send").order_by("-id"):
        if address in item.payload["to"] and f"/{kind}/" in item.payload["body"]:
            token = item.payload["body"].split(f"/{kind}/", 1)[1].split("/", 1)[0]
            return f"/{kind}/{token}/"
    raise AssertionError(f"no {kind} link was sent to {address}")


def test_a_member_onboards_a_customer_the_ae_hands_off_and_the_customer_sees_the_plan(
    member_client: Client, member_user: User
) -> None:
    templates_ship()
    csm = User.objects.create_user("cleo@rapport.example", name="Cleo CSM", is_csm=True)
    standard = Template.objects.get(name="Standard SaaS Onboarding")
    response = member_client.post(
        reverse("onboarding:create"),
        {
            "company_name": "Acme Corp",
            "arr": "$1,200",
            "close_date": "2026-11-20",
            "primary_contact_name": "Jane Smith",
            "primary_contact_email": "jane@acme.example",
            "template": standard.pk,
            "ae_email": "ae@rapport.example",
            "website": "acme.example",
            "raw_payload": "The customer is replacing Legacy Desk. Go-live target is 2027-03-01.",
        },
    )
    assert response.status_code == 400  # "$1,200" is no number the form takes
    assert "ARR must be a number" in _text(response)
    response = member_client.post(
        reverse("onboarding:create"),
        {
            "company_name": "Acme Corp",
            "arr": "1,200",
            "close_date": "2026-11-20",
            "primary_contact_name": "Jane Smith",
            "primary_contact_email": "jane@acme.example",
            "template": standard.pk,
            "ae_email": "ae@rapport.example",
            "website": "acme.example",
            "raw_payload": "The customer is replacing Legacy Desk. Go-live target is 2027-03-01.",
        },
        follow=True,
    )
    text = _text(response)
    account = Account.objects.get(name="Acme Corp")
    assert account.status == AccountStatus.PENDING_HANDOFF
    assert "Pending handoff" in text and "Kickoff" in text and "0 of 15 tasks" in text

    # The AE opens the link with no login, sees the drafted answer with its citation.
    anonymous = Client()
    handoff = _link("ae@rapport.example", "handoff")
    page = _text(anonymous.get(handoff))
    assert "From the deal notes: “Go-live target is 2027-03-01.”" in page
    # Submitting without a CSM is refused and changes nothing.
    response = anonymous.post(handoff, {"action": "submit", "answer-go_live_date": "2027-03-01"})
    assert response.status_code == 400
    assert "Choose the CSM" in _text(response)
    response = anonymous.post(
        handoff,
        {"action": "submit", "answer-go_live_date": "2027-04-15", "csm": str(csm.pk)},
        follow=True,
    )
    assert "Thank you" in _text(response)
    account.refresh_from_db()
    assert (account.status, account.csm) == (AccountStatus.ACTIVE, csm)
    assert anonymous.get(handoff).status_code == 410  # spent

    # The customer's portal shows the plan, the CSM and their own tasks, and they tick one.
    portal = _link("jane@acme.example", "portal")
    page = _text(anonymous.get(portal))
    assert "Cleo CSM" in page and "Onboarding in progress" in page
    assert "Confirm your project team and goals" in page
    assert "Hold the kickoff call" not in page  # the team's own task
    assert "Legacy Desk" not in page  # the deal notes stay internal
    task = account.tasks.get(title="Confirm your project team and goals")
    response = anonymous.post(
        reverse("onboarding:portal_task", args=[portal.split("/")[2], task.pk]), follow=True
    )
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE
    assert task.completed_by_label == "jane@acme.example (customer)"
    # At risk is never shown to the customer.
    Account.objects.filter(pk=account.pk).update(status=AccountStatus.AT_RISK)
    page = _text(anonymous.get(portal))
    assert "at risk" not in page.lower() and "Onboarding in progress" in page

    # Editing the template afterwards leaves this plan as it was.
    template_edit(
        actor=member_user,
        template=standard,
        milestones=[{"name": "Something else", "tasks": [{"title": "New"}]}],
    )
    page = _text(member_client.get(reverse("onboarding:plan", args=[account.pk])))
    assert "Kickoff" in page and "Something else" not in page
    page = _text(member_client.get(reverse("onboarding:template", args=[standard.pk])))
    assert "Added the milestone “Something else”." in page
    assert "Removed the milestone “Kickoff”." in page


def test_a_portal_link_shows_one_account_only_and_a_churned_one_is_closed(
    member_user: User,
) -> None:
    csm = User.objects.create_user("cleo@rapport.example", name="Cleo", is_csm=True)
    from rapport.onboarding.services import handoff_submit

    first = make_onboarding(member_user)
    second = make_onboarding(
        member_user, company_name="Globex", primary_contact_email="g@globex.example"
    )
    handoff_submit(plan=first, answers={}, csm=csm)
    handoff_submit(plan=second, answers={}, csm=csm)
    client = Client()
    portal = _link("jane@acme.example", "portal")
    token = portal.split("/")[2]
    other_task = second.account.tasks.filter(customer_completable=True).first()
    assert other_task is not None
    response = client.post(reverse("onboarding:portal_task", args=[token, other_task.pk]))
    assert response.status_code == 404
    Account.objects.filter(pk=first.account_id).update(status=AccountStatus.CHURNED)
    response = client.get(portal)
    assert response.status_code == 410 and "churn" not in _text(response).lower()
    assert client.get("/portal/not-a-token/").status_code == 404


def test_the_onboarding_list_counts_filters_searches_and_sorts(member_client: Client) -> None:
    make_onboarding(company_name="Acme Corp", arr="50000")
    make_onboarding(
        company_name="Globex",
        arr="250000",
        primary_contact_email="hank@globex.example",
        primary_contact_name="Hank Scorpio",
        template="Quick Start",
    )
    Account.objects.filter(name="Globex").update(status=AccountStatus.AT_RISK)
    url = reverse("onboarding:list")
    text = _text(member_client.get(url))
    assert 'Pending handoff <span class="count">1</span>' in text
    assert 'At risk <span class="count">1</span>' in text

    def names(**query: str) -> list[str]:
        page = member_client.get(url, query)
        assert page.status_code == 200
        return re.findall(r'/onboarding/\d+/">([^<]+)</a>', page.content.decode())

    assert names(status="at_risk") == ["Globex"]
    assert names(q="scorpio") == ["Globex"]
    assert names(q="jane@acme") == ["Acme Corp"]
    assert names(arr_min="100000") == ["Globex"]
    assert names(template="quick") == ["Globex"]
    assert names(sort="-arr") == ["Globex", "Acme Corp"]
    assert names(sort="name") == ["Acme Corp", "Globex"]
    assert member_client.get(url, {"arr_min": "lots"}).status_code == 400


def test_a_member_changes_status_with_a_note_and_reassigns_the_csm(
    member_client: Client, member_user: User
) -> None:
    plan = make_onboarding(member_user)
    cleo = User.objects.create_user("cleo@rapport.example", name="Cleo", is_csm=True)
    url = reverse("onboarding:plan", args=[plan.account_id])
    response = member_client.post(
        reverse("onboarding:status", args=[plan.account_id]),
        {"status": "at_risk", "note": "Champion left."},
        follow=True,
    )
    assert "Champion left." in _text(response)
    response = member_client.post(
        reverse("onboarding:csm", args=[plan.account_id]),
        {"csm": cleo.pk, "notify_csm": "on", "note": ""},
        follow=True,
    )
    assert "Cleo is the CSM now." in _text(response)
    assert OutboxItem.objects.filter(payload__to=["cleo@rapport.example"]).exists()
    response = member_client.post(
        reverse("onboarding:status", args=[plan.account_id]), {"status": "bogus"}
    )
    assert response.status_code == 400
    task = plan.account.tasks.first()
    assert task is not None
    member_client.post(reverse("onboarding:task", args=[task.pk]), {"next": url})
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE and task.completed_by == member_user
    page = _text(member_client.get(url))
    assert f"by {member_user.display_name}" in page


def test_anonymous_visitors_are_sent_to_log_in(client: Client) -> None:
    for name in ("onboarding:list", "onboarding:create", "onboarding:templates"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_account_page_links_its_onboarding_plan_and_names_its_csm(
    member_client: Client, member_user: User
) -> None:
    plan = make_onboarding(member_user)
    cleo = User.objects.create_user("cleo@rapport.example", name="Cleo", is_csm=True)
    from rapport.onboarding.services import account_csm_assign

    account_csm_assign(account=plan.account, csm=cleo, actor=member_user)
    text = _text(member_client.get(plan.account.get_absolute_url()))
    assert "CSM: Cleo" in text
    assert (
        f'href="/onboarding/{plan.account_id}/">Onboarding plan: Standard SaaS Onboarding' in text
    )


def test_the_onboarding_list_pages_and_its_queries_do_not_grow_with_the_rows(
    member_client: Client, django_assert_max_num_queries: object, settings: object
) -> None:
    from rapport.onboarding import views

    for n in range(7):
        make_onboarding(company_name=f"Company {n}", primary_contact_email=f"p@c{n}.example")
    url = reverse("onboarding:list")
    views_page = views.PAGE_SIZE
    try:
        views.PAGE_SIZE = 3
        with django_assert_max_num_queries(8):  # type: ignore[operator]
            first = member_client.get(url, {"sort": "name"})
        text = _text(first)
        assert "Page 1 of 3" in text and "Company 0" in text and "Company 3" not in text
        third = _text(member_client.get(url, {"sort": "name", "page": "3"}))
        assert "Company 6" in third and "Company 5" not in third
        assert member_client.get(url, {"page": "0"}).status_code == 400
    finally:
        views.PAGE_SIZE = views_page


def test_a_plan_page_and_its_api_answer_take_a_fixed_number_of_queries(
    member_client: Client, member_api: Client
) -> None:
    small = make_onboarding(template="Quick Start")
    large = make_onboarding(
        company_name="Globex",
        primary_contact_email="g@globex.example",
        template="Enterprise Implementation",
    )
    counts = []
    member_api.get("/api/v1/onboarding/templates")  # the token's first use is recorded once
    for plan in (small, large):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as page:
            assert (
                member_client.get(reverse("onboarding:plan", args=[plan.account_id])).status_code
                == 200
            )
        with CaptureQueriesContext(connection) as api:
            assert (
                member_api.get(f"/api/v1/onboarding/accounts/{plan.account_id}").status_code == 200
            )
        counts.append((len(page), len(api)))
    assert counts[0] == counts[1]  # 3 milestones or 8: the same queries
    assert counts[0][0] <= 14 and counts[0][1] <= 8
