"""The onboarding flow a person clicks through, in Debian's Chromium driven by Playwright.

A member onboards a customer by hand; the AE opens the emailed link with no login,
reviews the drafted answers and hands off to a CSM; the customer's portal shows the
plan and takes their task; editing the template afterwards leaves that plan alone.
"""

import os
import re

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

import pytest
from playwright.sync_api import Page, expect

from conftest import PASSWORD
from rapport.onboarding.catalog import templates_ship
from rapport.onboarding.models import Template
from rapport.onboarding.services_templates import template_edit
from rapport.outbox.models import OutboxItem
from rapport.users.models import User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _emailed_path(to: str, kind: str) -> str:
    for item in OutboxItem.objects.filter(action="email.send").order_by("-id"):
        if to in item.payload["to"] and f"/{kind}/" in item.payload["body"]:
            match = re.search(rf"https?://[^/\s]+(/{kind}/[^\s]+/)", item.payload["body"])
            assert match is not None
            return match.group(1)
    raise AssertionError(f"no {kind} email to {to}")


def test_from_closed_deal_to_the_customer_portal(page: Page, member_user: User) -> None:
    templates_ship()
    User.objects.create_user("cleo@rapport.example", name="Cleo Park", is_csm=True)
    page.goto("/login/")
    page.get_by_label("Email").fill(member_user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    page.get_by_role("link", name="Onboarding", exact=True).click()
    page.get_by_role("link", name="New customer", exact=True).click()
    page.get_by_label("Company name").fill("Acme Corp")
    page.get_by_label("ARR").fill("120000")
    page.get_by_label("Close date").fill("2026-11-20")
    page.get_by_label("Primary contact name").fill("Jane Smith")
    page.get_by_label("Primary contact email").fill("jane@acme.example")
    page.get_by_label("Template").select_option(label="Standard SaaS Onboarding")
    page.get_by_label("Account executive email").fill("ae@rapport.example")
    page.get_by_label("Deal notes").fill(
        "Closed after a long evaluation. Go-live target is 2027-03-01. "
        "They need SSO through Okta before launch."
    )
    page.get_by_role("button", name="Create account").click()
    expect(page.locator("#account-status")).to_have_text("Pending handoff")
    expect(page.locator("#plan-progress")).to_contain_text("0 of 15 tasks")
    expect(page.get_by_text("From the deal notes: “Go-live target is 2027-03-01.”")).to_be_visible()

    # The AE has no login: a fresh browser context opens the emailed link.
    handoff = _emailed_path("ae@rapport.example", "handoff")
    ae = page.context.browser.new_context(base_url=page.url.split("/onboarding")[0])  # type: ignore[union-attr]
    ae_page = ae.new_page()
    ae_page.goto(handoff)
    expect(ae_page.get_by_role("heading", name="Handoff of Acme Corp")).to_be_visible()
    expect(ae_page.get_by_label("What is the target go-live date?")).to_have_value("2027-03-01")
    ae_page.get_by_label("CSM who takes the account over").select_option(label="Cleo Park")
    ae_page.get_by_role("button", name="Submit handoff").click()
    expect(ae_page.get_by_role("heading", name="Thank you")).to_be_visible()

    page.reload()
    expect(page.locator("#account-status")).to_have_text("Active")
    expect(page.locator("#account-csm")).to_have_text("Cleo Park")

    # The customer's portal: their plan, their CSM, and a task they can tick.
    portal = _emailed_path("jane@acme.example", "portal")
    ae_page.goto(portal)
    expect(ae_page.get_by_text("Cleo Park", exact=True)).to_be_visible()
    tasks = ae_page.locator("#customer-tasks")
    tasks.get_by_role("button", name="Mark “Confirm your project team and goals” done").click()
    expect(tasks.locator(".task-done")).to_contain_text("Confirm your project team and goals")
    ae.close()

    # Editing the template afterwards leaves the plan as it was.
    template = Template.objects.get(name="Standard SaaS Onboarding")
    template_edit(
        actor=member_user, template=template, milestones=[{"name": "Renamed", "tasks": []}]
    )
    page.reload()
    expect(page.get_by_role("heading", name="Kickoff")).to_be_visible()
    expect(page.locator("#plan-progress")).to_contain_text("1 of 15 tasks")
