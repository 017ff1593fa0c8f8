"""A new admin invites a member who joins, then finds every setting from the Settings menu.

In Debian's Chromium driven by Playwright, against the live server. The invitation link
is read from the email the outbox sent, as the invitee would.
"""

import os
import re
from typing import Any

# Playwright's sync API runs an event loop in this thread; Django's ORM calls made by the
# test itself (building data) must not be refused as "async unsafe".
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

import pytest
from django.core import mail
from playwright.sync_api import Browser, Locator, Page, expect

from conftest import PASSWORD
from rapport.outbox.services import outbox_deliver_due
from rapport.users.models import Role, User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "a-long-and-unusual-passphrase"  # noqa: S105 (test value)
# The settings pages issue 9 names that exist so far; pages added later are visited too,
# as the test walks whatever the menu lists.
NAMED_PAGES = {"Team", "API tokens", "SLA policies", "Outbound webhook"}


def _log_in(page: Page, email: str, password: str) -> None:
    page.goto("/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/accounts/$"))


def _settings_menu(page: Page) -> Locator:
    """Open the navigation's Settings menu and return its links."""
    menu = page.locator('details[data-menu="settings"]')
    if menu.get_attribute("open") is None:
        menu.locator("summary").click()
    links = menu.locator(".nav-menu-items a")
    expect(links.first).to_be_visible()
    return links


def _invitation_link() -> str:
    """Deliver the outbox as the worker does, and return the link of the newest email."""
    outbox_deliver_due()
    assert mail.outbox, "no email was sent"
    email = mail.outbox[-1]
    assert email.to == ["jane@example.test"]
    match = re.search(r"https?://\S+/invitations/[\w-]+/", str(email.body))
    assert match, email.body
    return match.group(0)


def test_admin_invites_a_member_who_joins_then_finds_every_setting_in_the_menu(
    page: Page, browser: Browser, live_server: Any, admin_user: User, settings: Any
) -> None:
    settings.SITE_URL = live_server.url  # the link in the email points at this server

    # The admin opens Settings > Team and invites Jane by email.
    _log_in(page, admin_user.email, PASSWORD)
    _settings_menu(page).get_by_text("Team", exact=True).click()
    expect(page.get_by_role("heading", name="Team", exact=True)).to_be_visible()
    invite = page.locator("#invite-form")
    invite.get_by_label("Email").fill("jane@example.test")
    invite.get_by_label("Name").fill("Jane")
    invite.get_by_label("Role").select_option("member")
    invite.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_role("status")).to_contain_text("Invited jane@example.test")
    expect(page.locator("#invitations")).to_contain_text("jane@example.test")
    link = _invitation_link()

    # Jane opens the link in her own browser, chooses a password and is logged in.
    context = browser.new_context(base_url=live_server.url, locale="en-US")
    errors: list[str] = []
    invitee = context.new_page()
    invitee.on("pageerror", lambda error: errors.append(str(error)))
    invitee.goto(link)
    expect(invitee.get_by_role("heading", name="Join your team on Rapport")).to_be_visible()
    expect(invitee.get_by_text("Ada Admin invited")).to_be_visible()
    name = invitee.get_by_label("Your name")
    expect(name).to_have_value("Jane")
    name.fill("Jane Doe")
    invitee.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    invitee.get_by_label("Password again").fill(NEW_PASSWORD)
    invitee.get_by_role("button", name="Join and log in").click()
    expect(invitee).to_have_url(re.compile(r"/accounts/$"))
    expect(invitee.get_by_text("Welcome to Rapport, Jane Doe.")).to_be_visible()
    expect(invitee.locator(".user-name")).to_have_text("Jane Doe")
    # She logs out, and in again with her new password.
    invitee.get_by_role("button", name="Log out").click()
    expect(invitee).to_have_url(re.compile(r"/login/"))
    _log_in(invitee, "jane@example.test", NEW_PASSWORD)
    # As a member she gets her API tokens page, not the Team page.
    titles = _settings_menu(invitee).all_inner_texts()
    assert "API tokens" in titles and "Team" not in titles
    # The link worked once.
    invitee.goto(link)
    expect(invitee.get_by_text("This invitation was already used.")).to_be_visible()
    context.close()
    assert errors == []
    jane = User.objects.get(email="jane@example.test")
    assert (jane.name, jane.role, jane.is_active) == ("Jane Doe", Role.MEMBER, True)

    # The admin sees Jane on the team, her invitation answered.
    page.reload()
    expect(page.locator("#members")).to_contain_text("jane@example.test")
    expect(page.locator("#invitations")).to_have_count(0)

    # Every page the Settings menu lists opens and shows its heading.
    links = _settings_menu(page)
    entries = [
        (link.inner_text().strip(), link.get_attribute("href") or "") for link in links.all()
    ]
    titles = [title for title, _ in entries]
    assert set(titles) >= NAMED_PAGES, titles
    assert len(entries) >= len(NAMED_PAGES) + 1  # "All settings" and the pages
    for title, href in entries:
        response = page.goto(href)
        assert response is not None and response.status == 200, (title, href)
        heading = page.locator("main h1").first
        expect(heading).to_be_visible()
        assert heading.inner_text().strip(), (title, href)
        expect(page.locator(".error-code")).to_have_count(0)
        # Each page keeps the menu, so the next setting is one click away.
        expect(page.locator('details[data-menu="settings"]')).to_have_count(1)
