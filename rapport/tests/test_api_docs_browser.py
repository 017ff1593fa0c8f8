"""The API docs at /api/v1/docs render offline and under Rapport's content security policy.

The viewer's scripts and styles come from Rapport's own static files (django-ninja ships
them), so the page needs no CDN: every request that is not to Rapport is blocked here,
and the `page` fixture fails the test on any console error, CSP violations included.
"""

import os
from typing import Any

# Playwright's sync API runs an event loop in this thread; Django's ORM calls made by the
# test itself must not be refused as "async unsafe".
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

import pytest
from playwright.sync_api import Page, Route, expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_api_docs_list_the_operations_offline_and_under_the_csp(
    page: Page, live_server: Any
) -> None:
    outside: list[str] = []

    def only_rapport(route: Route) -> None:
        if route.request.url.startswith(live_server.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_rapport)
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )

    response = page.goto("/api/v1/docs")

    assert response is not None and response.status == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    expect(page.get_by_text("Rapport API").first).to_be_visible()
    expect(page.get_by_text("Create a ticket")).to_be_visible()
    expect(page.get_by_text("List accounts", exact=True)).to_be_visible()
    # Opening an operation shows its documented answers, errors included.
    page.get_by_text("Create a ticket").click()
    expect(page.get_by_text("Unauthorized").first).to_be_visible()
    assert outside == []
    assert violations == []
