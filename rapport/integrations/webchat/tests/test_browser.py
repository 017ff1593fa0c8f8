"""The widget on a customer's page, in Debian's Chromium driven by Playwright.

The test serves a small "customer site" on another origin (its own host and port) with
a strict CSP of its own and hostile CSS, and pastes the one-line snippet into it. Set
RAPPORT_SCREENSHOTS to a directory to also save the open widget there as webchat.png.
"""

import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

# Playwright's sync API runs an event loop in this thread; Django's ORM calls made by the
# test itself (building data, checking results) must not be refused as "async unsafe".
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from rapport.accounts.tests.factories import make_account
from rapport.inbox.models import Conversation, InboundEvent, Message
from rapport.inbox.services import conversation_reply
from rapport.integrations.webchat.models import ChatSite, ChatVisitor
from rapport.integrations.webchat.services import chat_identity_hash, chat_site_update
from rapport.integrations.webchat.snippets import chat_site_snippet
from rapport.integrations.webchat.tests.factories import make_site
from rapport.users.services import user_create

# The page's own stylesheet tries to hide and restyle every control it can reach.
HOSTILE_CSS = b"""
button, input, textarea, ol, li, span, form, section { display: none !important; }
* { color: rgb(255, 0, 0) !important; font-family: serif !important; }
"""

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


class CustomerSite:
    """A web page on its own origin that embeds the widget with the one-line snippet."""

    def __init__(self, rapport_url: str) -> None:
        self.rapport_url = rapport_url
        self.snippet = ""
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the http.server API)
                if self.path == "/shop.css":
                    self._send(200, "text/css", HOSTILE_CSS)
                elif self.path == "/":
                    self._send(200, "text/html; charset=utf-8", owner.page().encode())
                else:
                    self._send(404, "text/plain", b"not found")

            def _send(self, status: int, content_type: str, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                # Like a careful shop: no inline script or style, scripts and calls
                # only to itself and Rapport. No Rapport nonce is ever involved.
                self.send_header(
                    "Content-Security-Policy",
                    f"default-src 'self'; script-src {owner.rapport_url}; "
                    f"connect-src {owner.rapport_url}; style-src 'self'; img-src 'self'",
                )
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def page(self) -> str:
        return (
            "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            "<title>Acme Shop</title><link rel='stylesheet' href='/shop.css'></head>"
            f"<body><h1>Acme Shop</h1><p>Shoes and more.</p>{self.snippet}</body></html>"
        )

    def __enter__(self) -> "CustomerSite":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def db_lock(live_server: Any) -> threading.RLock:
    """Take turns with the live server on the database.

    On SQLite the test database lives in memory and the server's threads share the
    test's connection, so a query here while the server handles a poll can fail with
    "table is locked". The server handles each request under this lock, and the test
    holds it for its own queries.
    """
    lock = threading.RLock()
    httpd = live_server.thread.httpd
    app = httpd.get_app()

    def locked_app(environ: dict[str, Any], start_response: Any) -> Any:
        with lock:
            return app(environ, start_response)

    httpd.set_app(locked_app)
    return lock


@pytest.fixture
def customer_site(live_server: Any) -> Iterator[CustomerSite]:
    with CustomerSite(live_server.url) as shop:
        yield shop


@pytest.fixture
def page(browser: Browser) -> Iterator[tuple[Page, list[str]]]:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(10_000)
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on(
        "console",
        lambda message: problems.append(message.text) if message.type == "error" else None,
    )
    yield page, problems
    context.close()


def _expected(problem: str) -> bool:
    # Chromium logs every 4xx answer (the shop has no favicon) and the connection the test
    # itself cuts; anything else (a script error, a CSP violation) fails the test.
    return bool(re.match(r"Failed to load resource: (.* status of 4\d\d|net::ERR_FAILED)", problem))


def _eventually[T](lock: threading.RLock, check: Callable[[], T | None]) -> T:
    deadline = time.monotonic() + 10
    while True:
        with lock:
            result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError("gave up waiting")
        time.sleep(0.1)


def _embed(shop: CustomerSite, site: ChatSite, live_server: Any) -> None:
    shop.snippet = chat_site_snippet(site, live_server.url)


def test_a_visitor_chats_from_a_customer_site_and_sees_the_team_reply(
    page: tuple[Page, list[str]],
    customer_site: CustomerSite,
    live_server: Any,
    db_lock: threading.RLock,
) -> None:
    browser_page, problems = page
    acme = make_account("Acme", domain="acme.example")
    member = user_create(email="max@rapport.example", password=None, name="Max Member")
    site = make_site("Acme Shop", origins=[customer_site.origin])
    _embed(customer_site, site, live_server)

    # The first delivery of the message reaches Rapport, but the answer is lost on the
    # way back: the widget must retry with the same id, and Rapport store it once.
    deliveries: list[int] = []

    def lose_first_answer(route: Route) -> None:
        if route.request.method != "POST":
            route.continue_()
            return
        if not deliveries:
            deliveries.append(route.fetch().status)
            route.abort()
        else:
            deliveries.append(0)
            route.continue_()

    browser_page.route(re.compile(r"/webchat/api/[^/]+/messages"), lose_first_answer)
    browser_page.goto(customer_site.origin + "/")

    launcher = browser_page.get_by_role("button", name="Chat with us")
    expect(launcher).to_be_visible()
    # The shop's CSS reaches neither the controls nor their colours.
    expect(launcher).to_have_css("color", "rgb(255, 255, 255)")
    launcher.click()
    dialog = browser_page.get_by_role("dialog", name="Chat")
    expect(dialog).to_be_visible()

    dialog.get_by_label("Email").fill("not an email")
    dialog.get_by_role("button", name="Start chat").click()
    expect(dialog.get_by_role("alert")).to_have_text("Enter a valid email address.")
    dialog.get_by_label("Email").fill("jo@acme.example")
    dialog.get_by_label("Name (optional)").fill("Jo Buyer")
    dialog.get_by_role("button", name="Start chat").click()

    message = dialog.get_by_label("Message", exact=True)
    expect(message).to_be_focused()
    message.fill("My order #42 is late")
    message.press("Enter")
    expect(message).to_have_value("")
    expect(dialog.get_by_text("My order #42 is late")).to_be_visible()

    conversation = _eventually(
        db_lock,
        lambda: Conversation.objects.filter(source="web_chat").select_related("account").first(),
    )
    assert conversation.account == acme
    assert conversation.mapping_method == "email_domain"
    assert conversation.requester_email == "jo@acme.example"
    # The widget retries after a second (route handlers run while Playwright waits).
    for _ in range(50):
        if len(deliveries) == 2:
            break
        browser_page.wait_for_timeout(100)
    assert deliveries == [202, 0]
    expect(dialog.get_by_text(re.compile("Sending…|Will retry…"))).to_have_count(0)
    with db_lock:
        assert InboundEvent.objects.filter(source="web_chat").count() == 1
        assert Message.objects.filter(conversation=conversation).count() == 1
        visitor = ChatVisitor.objects.get()
        assert (visitor.email, visitor.name) == ("jo@acme.example", "Jo Buyer")

        # The team answers from Rapport; the open widget shows it on its next poll.
        conversation_reply(actor=member, conversation=conversation, text="It ships today, Jo.")
    reply = dialog.locator(".team")
    expect(reply).to_contain_text("It ships today, Jo.")
    expect(reply).to_contain_text("Max Member")
    if target := os.environ.get("RAPPORT_SCREENSHOTS"):
        Path(target).mkdir(parents=True, exist_ok=True)
        browser_page.screenshot(path=str(Path(target) / "webchat.png"))

    # The visitor comes back later: the chat and its history are still there.
    browser_page.reload()
    browser_page.get_by_role("button", name="Chat with us").click()
    expect(dialog.get_by_text("My order #42 is late")).to_be_visible()
    expect(dialog.get_by_text("It ships today, Jo.")).to_be_visible()
    expect(dialog.get_by_label("Email")).to_be_hidden()

    assert [p for p in problems if not _expected(p)] == []


def test_a_site_not_on_the_allow_list_cannot_start_a_chat(
    page: tuple[Page, list[str]],
    customer_site: CustomerSite,
    live_server: Any,
    db_lock: threading.RLock,
) -> None:
    browser_page, problems = page
    site = make_site("Acme Shop", origins=["https://www.acme-shop.example"])
    _embed(customer_site, site, live_server)
    browser_page.goto(customer_site.origin + "/")

    browser_page.get_by_role("button", name="Chat with us").click()
    dialog = browser_page.get_by_role("dialog", name="Chat")
    dialog.get_by_label("Email").fill("jo@acme.example")
    dialog.get_by_role("button", name="Start chat").click()
    expect(dialog.get_by_role("alert")).to_contain_text("cannot be reached")
    with db_lock:
        assert not ChatVisitor.objects.exists()
    # The browser itself refused to hand the answer to the page.
    assert any("CORS policy" in p for p in problems)


def _embed_signed_in(
    shop: CustomerSite, site: ChatSite, live_server: Any, email: str, name: str
) -> None:
    """Paste the line as a site's backend writes it for a signed-in customer."""
    user_hash = chat_identity_hash(site.identity_secret, email)
    shop.snippet = chat_site_snippet(site, live_server.url).replace(
        " async>", f' data-email="{email}" data-name="{name}" data-user-hash="{user_hash}" async>'
    )


def test_a_signed_in_customer_chats_as_themselves_and_the_next_person_starts_afresh(
    page: tuple[Page, list[str]],
    customer_site: CustomerSite,
    live_server: Any,
    db_lock: threading.RLock,
) -> None:
    browser_page, problems = page
    acme = make_account("Acme", domain="acme.example")
    site = make_site("Acme Shop", origins=[customer_site.origin])
    _embed_signed_in(customer_site, site, live_server, "Jo@Acme.example", "Jo Buyer")
    browser_page.goto(customer_site.origin + "/")

    # Opening the chat starts it as the signed-in customer: no email to type.
    browser_page.get_by_role("button", name="Chat with us").click()
    dialog = browser_page.get_by_role("dialog", name="Chat")
    message = dialog.get_by_label("Message", exact=True)
    expect(message).to_be_visible()
    message.fill("Can I add a seat?")
    message.press("Enter")
    expect(dialog.get_by_text("Can I add a seat?")).to_be_visible()

    conversation = _eventually(
        db_lock,
        lambda: Conversation.objects.filter(source="web_chat").select_related("requester").first(),
    )
    assert conversation.requester_identity == "verified"
    assert conversation.account == acme
    assert conversation.requester is not None
    assert conversation.requester.email == "jo@acme.example"
    with db_lock:
        assert ChatVisitor.objects.get().verified is True

    # Someone else signs in on the same browser: Jo's chat is not theirs to see.
    _embed_signed_in(customer_site, site, live_server, "max@acme.example", "Max Buyer")
    browser_page.reload()
    browser_page.get_by_role("button", name="Chat with us").click()
    expect(dialog.get_by_label("Message", exact=True)).to_be_visible()
    expect(dialog.get_by_text("Can I add a seat?")).to_have_count(0)
    with db_lock:
        assert list(ChatVisitor.objects.order_by("pk").values_list("email", "verified")) == [
            ("jo@acme.example", True),
            ("max@acme.example", True),
        ]

    # Signed out: an anonymous visitor is asked for an email, and sees no one's chat.
    _embed(customer_site, site, live_server)
    browser_page.reload()
    browser_page.get_by_role("button", name="Chat with us").click()
    expect(dialog.get_by_label("Email")).to_have_value("")
    expect(dialog.get_by_text("Can I add a seat?")).to_have_count(0)

    assert [p for p in problems if not _expected(p)] == []


def test_a_site_that_requires_verified_visitors_tells_an_anonymous_one_to_sign_in(
    page: tuple[Page, list[str]],
    customer_site: CustomerSite,
    live_server: Any,
    db_lock: threading.RLock,
) -> None:
    browser_page, problems = page
    site = make_site("Acme Shop", origins=[customer_site.origin])
    with db_lock:
        chat_site_update(actor=None, site=site, require_verified=True)
    _embed(customer_site, site, live_server)
    browser_page.goto(customer_site.origin + "/")

    browser_page.get_by_role("button", name="Chat with us").click()
    dialog = browser_page.get_by_role("dialog", name="Chat")
    dialog.get_by_label("Email").fill("jo@acme.example")
    dialog.get_by_role("button", name="Start chat").click()

    expect(dialog.get_by_role("alert")).to_have_text(
        "This chat is for signed-in customers: sign in on the site to start a chat."
    )
    with db_lock:
        assert not ChatVisitor.objects.exists()
    assert [p for p in problems if not _expected(p)] == []
