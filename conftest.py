"""Fixtures shared by every app's tests: members, clients and API tokens."""

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from hypothesis import settings as hypothesis_settings

from rapport.users.models import Role, User
from rapport.users.services import api_token_create, user_create

PASSWORD = "correct-horse-battery"  # noqa: S105 (test fixture)


@pytest.fixture
def admin_user(db: None) -> User:
    return user_create(
        email="admin@example.test", password=PASSWORD, name="Ada Admin", role=Role.ADMIN
    )


@pytest.fixture
def member_user(db: None) -> User:
    return user_create(email="member@example.test", password=PASSWORD, name="Max Member")


@pytest.fixture
def admin_client(admin_user: User) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


@pytest.fixture
def member_client(member_user: User) -> Client:
    client = Client()
    client.force_login(member_user)
    return client


@pytest.fixture
def admin_token(admin_user: User) -> str:
    return api_token_create(user=admin_user)[1]


@pytest.fixture
def member_token(member_user: User) -> str:
    return api_token_create(user=member_user)[1]


@pytest.fixture
def admin_api(admin_token: str) -> Client:
    """A client that talks to the API with the admin's bearer token."""
    return Client(headers={"Authorization": f"Bearer {admin_token}"})


@pytest.fixture
def member_api(member_token: str) -> Client:
    return Client(headers={"Authorization": f"Bearer {member_token}"})


# Hypothesis: no example database on disk (the suite stays hermetic) and no per-example
# deadline (a first database query can be slow on a cold connection).
hypothesis_settings.register_profile("rapport", database=None, deadline=None)
hypothesis_settings.load_profile("rapport")


@pytest.fixture
def media_root(settings: Any, tmp_path: Path) -> Path:
    """Store uploaded files in a temporary directory for the test."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def make_user(db: None) -> Callable[..., User]:
    """Create more workspace members: make_user("x@example.test", role="admin")."""

    def make(email: str, *, role: str = Role.MEMBER, name: str = "") -> User:
        return user_create(email=email, password=PASSWORD, name=name, role=role)

    return make


# --- browser tests: Debian's Chromium driven by Playwright -----------------------------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium per test module; skips when Debian's chromium is not installed."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (run `make browser-deps`).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any, live_server: Any) -> Iterator[Any]:
    """A fresh context on the live server; any script error or CSP violation fails the test."""
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1400, "height": 900}, locale="en-US"
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))

    def on_console(message: Any) -> None:
        # Chromium logs every 4xx answer; those are expected (a refused action says why).
        expected = re.match(r"Failed to load resource: .* status of 4\d\d", message.text)
        if message.type == "error" and not expected:
            problems.append(message.text)

    page.on("console", on_console)
    yield page
    context.close()
    assert problems == []
