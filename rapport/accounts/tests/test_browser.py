"""The flows a person clicks through, in Debian's Chromium driven by Playwright.

Set RAPPORT_SCREENSHOTS to a directory to also save a screenshot of the directory page
(with demo-like data) there as directory.png.
"""

import os
import random
import re
from pathlib import Path

# Playwright's sync API runs an event loop in this thread; Django's ORM calls made by the
# test itself (building data) must not be refused as "async unsafe".
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

import pytest
from playwright.sync_api import FilePayload, Page, expect

from conftest import PASSWORD
from rapport.accounts.services import account_record_crm_sync
from rapport.accounts.services_contacts import contact_add_to_account
from rapport.accounts.services_fields import account_set_field_values
from rapport.accounts.tests.factories import image_bytes, make_account, make_field
from rapport.inbox.services import channel_create, channel_set_accounts
from rapport.users.models import Role, User
from rapport.users.services import user_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _log_in(page: Page, email: str) -> None:
    page.goto("/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/accounts/$"))


def test_admin_filters_picks_a_column_edits_inline_and_sees_it_in_history(
    page: Page, admin_user: User, media_root: Path
) -> None:
    acme = make_account("Acme", domain="acme.example", industry="Retail")
    make_account("Acme Labs", domain="acmelabs.example", industry="Research")
    make_account("Globex", domain="globex.example", industry="Energy", crm_id="HS-1")

    _log_in(page, admin_user.email)
    rows = page.locator("#directory tbody tr")
    expect(rows).to_have_count(3)
    expect(page.get_by_text("3 accounts")).to_be_visible()

    # Typing in the search box narrows the rows and pushes a shareable URL.
    page.get_by_label("Search").fill("acme")
    expect(rows).to_have_count(2)
    expect(page).to_have_url(re.compile(r"/accounts/\?q=acme$"))
    filters = page.locator("#filters")
    filters.get_by_label("Industry").select_option("Retail")
    expect(rows).to_have_count(1)
    expect(page).to_have_url(re.compile(r"q=acme&industry=Retail$"))
    # Back and forward walk through the filtered views.
    page.go_back()
    expect(page).to_have_url(re.compile(r"/accounts/\?q=acme$"))
    expect(rows).to_have_count(2)
    # htmx answers a history step with a full reload; step again only once the reloaded
    # page listens, or the step lands in a page without htmx yet.
    page.wait_for_load_state("load")
    page.go_forward()
    expect(rows).to_have_count(1)
    # A full load of that URL shows the same view.
    page.reload()
    expect(rows).to_have_count(1)
    expect(filters.get_by_label("Search")).to_have_value("acme")
    expect(filters.get_by_label("Industry")).to_have_value("Retail")
    page.get_by_role("link", name="Clear all").click()
    expect(rows).to_have_count(3)

    # Sort by a column header.
    page.locator("#directory thead").get_by_role("link", name="Account", exact=True).click()
    expect(page).to_have_url(re.compile(r"sort=-name"))
    expect(rows.first).to_contain_text("Globex")

    # Add a column through the picker.
    picker = page.locator(".column-picker")
    picker.get_by_text("Columns", exact=True).click()
    picker.get_by_label("Industry").check()
    page.get_by_role("button", name="Apply columns").click()
    expect(page.get_by_role("columnheader", name="Industry")).to_be_visible()
    expect(page.get_by_role("cell", name="Energy")).to_be_visible()

    # Edit a primary domain in place; a taken domain is refused with the other account's name.
    acme_row = rows.filter(has=page.locator(f"#cell-{acme.pk}-name"))
    acme_row.hover()
    acme_row.get_by_role("button", name="Edit the name of Acme").click()
    acme_row.get_by_label("Account name of Acme", exact=True).press("Escape")
    expect(acme_row.locator("form")).to_have_count(0)
    acme_row.get_by_role("button", name="Edit the primary domain of Acme").click()
    field = acme_row.get_by_label("Primary domain of Acme", exact=True)
    field.fill("globex.example")
    field.press("Enter")
    expect(acme_row.get_by_role("alert")).to_contain_text("“Globex”")
    field.fill("acme-corp.example")
    field.press("Enter")
    expect(acme_row.get_by_text("acme-corp.example")).to_be_visible()
    expect(acme_row.locator("form")).to_have_count(0)

    # Map Acme to a CRM company in place: a company mapped elsewhere is refused, then the
    # saved row shows the company and a synced badge.
    badge = acme_row.locator(".badge")
    expect(badge).to_have_text("Not mapped")
    acme_row.hover()
    acme_row.get_by_role("button", name="Edit the CRM mapping of Acme").click()
    acme_row.get_by_label("CRM of Acme", exact=True).select_option(label="HubSpot")
    crm_id = acme_row.get_by_label("CRM company id of Acme", exact=True)
    crm_id.fill("HS-1")
    acme_row.get_by_label("Company name in the CRM of Acme", exact=True).fill("Acme Inc")
    crm_id.press("Enter")
    expect(acme_row.get_by_role("alert")).to_contain_text("already mapped to the account “Globex”")
    crm_id.fill("HS-42")
    acme_row.get_by_role("button", name="Save").click()
    expect(badge).to_have_text("Mapped, not synced yet")
    expect(acme_row.get_by_text("Acme Inc")).to_be_visible()
    expect(acme_row.locator("form")).to_have_count(0)

    # Upload a logo from the name cell: it is posted as multipart and shown in the row.
    acme_row.get_by_role("button", name="Change the logo of Acme").click()
    acme_row.get_by_label("Logo of Acme", exact=True).set_input_files(
        files=FilePayload(name="acme.png", mimeType="image/png", buffer=image_bytes(40, 40))
    )
    acme_row.get_by_role("button", name="Upload").click()
    expect(acme_row.locator("img.logo")).to_have_js_property("naturalWidth", 40)
    expect(acme_row.locator("form")).to_have_count(0)
    # Removing it brings the initials back.
    acme_row.get_by_role("button", name="Change the logo of Acme").click()
    acme_row.get_by_role("button", name="Remove logo").click()
    expect(acme_row.locator(".avatar")).to_have_text("A")
    expect(acme_row.locator("img.logo")).to_have_count(0)

    # The account page lists the changes in its history, newest first.
    acme_row.get_by_role("link", name="Acme", exact=True).click()
    expect(page.get_by_role("heading", name="Acme", exact=True)).to_be_visible()
    history = page.locator("#history")
    expect(history).to_contain_text("Ada Admin changed the account")
    items = history.locator(".timeline-item")
    expect(items.nth(0)).to_contain_text("Ada Admin changed the logo")  # removed
    expect(items.nth(1)).to_contain_text("Ada Admin changed the logo")  # uploaded
    expect(items.nth(2).locator(".changes li")).to_have_text(
        "CRM mapping empty → HubSpot HS-42 (Acme Inc)"
    )
    expect(items.nth(3).locator(".changes li")).to_have_text(
        "Primary domain acme.example → acme-corp.example"
    )

    # Log out through the navigation's POST form.
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/login/$"))


def test_an_enter_pressed_as_the_inline_edit_opens_saves_in_place(
    page: Page, admin_user: User
) -> None:
    """htmx wires a swapped-in form only when it settles; a quick Enter must not post the
    bare form and leave the directory for the cell's fragment."""
    acme = make_account("Acme", domain="acme.example")
    _log_in(page, admin_user.email)
    # Widen the gap between a form appearing and htmx wiring it, as a slow machine does.
    page.evaluate("htmx.config.defaultSettleDelay = 1500")
    posts: list[str] = []
    page.on(
        "request", lambda request: posts.append(request.url) if request.method == "POST" else None
    )
    row = page.locator("#directory tbody tr").filter(has=page.locator(f"#cell-{acme.pk}-name"))
    row.hover()
    row.get_by_role("button", name="Edit the primary domain of Acme").click()
    field = row.get_by_label("Primary domain of Acme", exact=True)
    field.fill("acme-corp.example")
    field.press("Enter")
    expect(row.get_by_text("acme-corp.example")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/accounts/$"))
    expect(row.locator("form")).to_have_count(0)
    page.wait_for_timeout(1600)  # past the settle, when htmx wires the form a second time
    assert posts == [f"{page.url}{acme.pk}/cell/primary_domain/"]
    acme.refresh_from_db()
    assert acme.primary_domain == "acme-corp.example"


def test_member_finds_no_edit_controls(page: Page, member_user: User) -> None:
    make_account("Acme", domain="acme.example")
    _log_in(page, member_user.email)
    expect(page.locator("#directory tbody tr")).to_have_count(1)
    expect(page.locator(".edit-btn")).to_have_count(0)
    expect(page.locator('a[href="/accounts/fields/"]')).to_have_count(0)

    page.get_by_role("link", name="Acme", exact=True).click()
    expect(page.get_by_role("heading", name="Acme", exact=True)).to_be_visible()
    expect(page.get_by_text("Edit name, domains and logo")).to_have_count(0)
    expect(page.get_by_role("link", name="Delete account")).to_have_count(0)
    # Members may still edit the lifecycle details.
    expect(page.get_by_text("Edit details")).to_be_visible()


COMPANIES = [
    ("Northwind Analytics", "northwind.example", "Software"),
    ("Bluebird Logistics", "bluebird-logistics.example", "Logistics"),
    ("Copperleaf Health", "copperleaf.example", "Healthcare"),
    ("Driftwood Studios", "driftwood.example", "Media"),
    ("Evergreen Foods", "evergreen-foods.example", "Retail"),
    ("Foxglove Security", "foxglove.example", "Software"),
    ("Granite Capital", "granitecap.example", "Finance"),
    ("Harbor & Pine", "harborpine.example", "Retail"),
    ("Ironbark Manufacturing", "ironbark.example", "Manufacturing"),
    ("Juniper Learning", "juniperlearn.example", "Education"),
    ("Kestrel Aviation", "kestrel.example", "Logistics"),
    ("Lumen Energy", "lumen-energy.example", "Energy"),
    ("Meridian Insurance", "meridian-ins.example", "Finance"),
    ("Nimbus Cloudworks", "nimbus.example", "Software"),
    ("Orchard Street Bank", "orchardbank.example", "Finance"),
    ("Pinnacle Robotics", "pinnacle.example", "Manufacturing"),
    ("Quarry Labs", "quarrylabs.example", "Research"),
    ("Riverstone Legal", "riverstone.example", "Legal"),
    ("Saffron Hospitality", "saffron.example", "Hospitality"),
    ("Tidewater Marine", "tidewater.example", "Logistics"),
    ("Umbra Design", "umbra.example", "Media"),
    ("Vantage Telecom", "vantage.example", "Telecom"),
    ("Willow Pediatrics", "willow.example", "Healthcare"),
    ("Xylo Music", "xylo.example", "Media"),
    ("Zephyr Mobility", "zephyr.example", "Energy"),
]
PEOPLE = ["Alex Kim", "Jordan Lee", "Sam Rivera", "Taylor Brooks", "Casey Morgan", "Robin Diaz"]


def _demo_directory() -> None:
    """Build a directory that looks like a team's: owners, CRM states, channels, contacts."""
    rng = random.Random(7)
    owners = [
        user_create(email=f"{name.split()[0].lower()}@rapport.example", password=None, name=name)
        for name in ("Priya Patel", "Marcus Chen", "Sofia Alvarez", "Liam Byrne")
    ]
    make_field("tier", source="crm", type="choice", choices=["Enterprise", "Growth", "Starter"])
    for n, (name, domain, industry) in enumerate(COMPANIES):
        crm_id = f"{rng.randint(10_000_000, 99_999_999)}" if n % 5 != 3 else None
        account = make_account(
            name,
            domain=domain,
            crm_id=crm_id,
            owner=owners[n % 4] if n % 7 != 6 else None,
            industry=industry,
            arr=rng.choice([18_000, 42_000, 96_000, 150_000, 320_000, 780_000]),
            status=rng.choice(["completed", "completed", "active", "pending_handoff", "at_risk"]),
            source=rng.choice(["slack", "email", "crm", "manual"]),
        )
        for person in rng.sample(PEOPLE, rng.randint(1, 5)):
            first, last = person.lower().split()
            contact_add_to_account(account=account, email=f"{first}.{last}@{domain}", name=person)
        if crm_id:
            account_set_field_values(
                actor=None, account=account, values={"tier": rng.choice(["Enterprise", "Growth"])}
            )
            if n % 6 == 2:
                account_record_crm_sync(
                    account=account, ok=False, error="CRM answered 401: the access token expired"
                )
            else:
                account_record_crm_sync(account=account, ok=True)
        if n % 4 != 1:
            slug = domain.split(".")[0]
            channel = channel_create(
                slack_team_id="T0DEMO", slack_channel_id=f"C{n:04d}", name=f"ext-{slug}"
            )
            channel_set_accounts(actor=None, channel=channel, accounts=[account])


def test_directory_with_demo_like_data(page: Page) -> None:
    user_create(email="lead@rapport.example", password=PASSWORD, name="Dana Lead", role=Role.ADMIN)
    _demo_directory()
    _log_in(page, "lead@rapport.example")
    expect(page.locator("#directory tbody tr")).to_have_count(len(COMPANIES))
    expect(page.get_by_text("25 accounts")).to_be_visible()
    failing = page.locator(".badge.crm-failing").first
    expect(failing).to_have_attribute("title", re.compile(r"Sync failing: CRM answered 401"))

    target = os.environ.get("RAPPORT_SCREENSHOTS")
    if target:
        folder = Path(target)
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / "directory.png"), full_page=True)
