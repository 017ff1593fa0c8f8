"""The public chat API and the widget script, called as the widget calls them."""

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from rapport.accounts.tests.factories import make_account
from rapport.inbox.models import Conversation, InboundEvent, Message
from rapport.inbox.services import conversation_reply
from rapport.integrations.webchat.models import ChatSite, ChatVisitor
from rapport.integrations.webchat.services import chat_site_update
from rapport.integrations.webchat.tests.factories import ORIGIN, Widget, make_site
from rapport.users.models import User

pytestmark = pytest.mark.django_db
Capture = Callable[..., Any]


@pytest.fixture
def widget(site: ChatSite) -> Widget:
    return Widget(site)


def _token(widget: Widget, **kwargs: Any) -> str:
    response = widget.start(**kwargs)
    assert response.status_code == 201, response.content
    return str(response.json()["token"])


# --- origins and CORS ---------------------------------------------------------------------------


def test_an_allowed_origin_is_answered_with_cors_headers_for_that_origin(widget: Widget) -> None:
    response = widget.start()
    assert response.status_code == 201
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    assert "Origin" in response["Vary"]
    assert "Access-Control-Allow-Credentials" not in response
    assert ChatVisitor.objects.count() == 1


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "http://www.acme-shop.example",  # another scheme is another origin
        "https://www.acme-shop.example:8443",
        "https://shop.acme-shop.example",
        "null",
    ],
)
def test_a_refused_origin_gets_403_and_nothing_is_stored(site: ChatSite, origin: str) -> None:
    widget = Widget(site, origin=origin)
    response = widget.start()
    assert response.status_code == 403
    assert "may not use this chat" in response.json()["error"]
    assert "Access-Control-Allow-Origin" not in response
    assert not ChatVisitor.objects.exists()


def test_a_refused_origin_cannot_send_with_a_valid_token(
    site: ChatSite, widget: Widget, django_capture_on_commit_callbacks: Capture
) -> None:
    token = _token(widget)
    with django_capture_on_commit_callbacks(execute=True):
        response = Widget(site, origin="https://evil.example").send(token, "Sneaky")
    assert response.status_code == 403
    assert not InboundEvent.objects.exists()
    assert Widget(site, origin="https://evil.example").poll(token).status_code == 403


def test_a_request_without_an_origin_is_refused(site: ChatSite) -> None:
    response = Client().post(
        reverse("webchat:visitors", args=[site.public_key]),
        {"email": "jo@acme.example"},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert not ChatVisitor.objects.exists()


def test_a_preflight_from_an_allowed_origin_lists_the_methods_and_headers(site: ChatSite) -> None:
    response = Client().options(
        reverse("webchat:messages", args=[site.public_key]),
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    assert set(response["Access-Control-Allow-Methods"].split(", ")) == {"GET", "POST", "OPTIONS"}
    assert response["Access-Control-Allow-Headers"] == "Content-Type"
    assert int(response["Access-Control-Max-Age"]) > 0


def test_a_preflight_from_a_refused_origin_gets_403_without_cors_headers(site: ChatSite) -> None:
    response = Client().options(
        reverse("webchat:visitors", args=[site.public_key]),
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response
    assert "Access-Control-Allow-Methods" not in response


def test_the_endpoints_need_no_csrf_token(widget: Widget) -> None:
    widget.client = Client(enforce_csrf_checks=True)
    assert widget.start().status_code == 201


@pytest.mark.parametrize("key", ["pk_unknown", "nope"])
def test_an_unknown_key_answers_404(key: str, db: None) -> None:
    response = Client().post(
        reverse("webchat:visitors", args=[key]),
        {"email": "jo@acme.example"},
        content_type="application/json",
        headers={"Origin": ORIGIN},
    )
    assert response.status_code == 404
    assert response.json() == {"error": "No active chat site has this key."}


def test_an_inactive_site_answers_404_everywhere(site: ChatSite, widget: Widget) -> None:
    token = _token(widget)
    chat_site_update(actor=None, site=site, is_active=False)
    assert widget.start().status_code == 404
    assert widget.send(token).status_code == 404
    assert widget.poll(token).status_code == 404
    assert Client().get(reverse("webchat:widget", args=[site.public_key])).status_code == 404
    assert not InboundEvent.objects.exists()


def test_an_unsupported_method_answers_405(site: ChatSite) -> None:
    response = Client().get(
        reverse("webchat:visitors", args=[site.public_key]), headers={"Origin": ORIGIN}
    )
    assert response.status_code == 405
    assert "POST" in response["Allow"]


# --- visitors and messages ----------------------------------------------------------------------


def test_starting_a_chat_answers_a_token_and_records_the_visitor(widget: Widget) -> None:
    response = widget.start(email="Jo@Acme.example", name="Jo Buyer", REMOTE_ADDR="198.51.100.4")
    assert response.status_code == 201
    token = response.json()["token"]
    visitor = ChatVisitor.objects.get()
    assert (visitor.email, visitor.name, visitor.ip) == (
        "jo@acme.example",
        "Jo Buyer",
        "198.51.100.4",
    )
    assert token.startswith("wcv_")


@pytest.mark.parametrize(
    "body",
    [
        {"email": "not-an-email"},
        {"email": ""},
        {"email": ["jo@acme.example"]},
        {"email": "jo@acme.example", "name": "x" * 201},
    ],
)
def test_starting_a_chat_with_bad_input_answers_400(widget: Widget, body: dict[str, Any]) -> None:
    response = widget.client.post(
        widget.url("visitors"), body, content_type="application/json", headers={"Origin": ORIGIN}
    )
    assert response.status_code == 400
    assert response.json()["error"]
    assert response["Access-Control-Allow-Origin"] == ORIGIN  # so the widget can show it
    assert not ChatVisitor.objects.exists()


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b""])
def test_a_body_that_is_not_a_json_object_answers_400(widget: Widget, body: bytes) -> None:
    response = widget.client.post(
        widget.url("visitors"), body, content_type="application/json", headers={"Origin": ORIGIN}
    )
    assert response.status_code == 400
    assert response.json() == {"error": "Send a JSON object."}


def test_a_message_is_accepted_and_becomes_a_linked_conversation(
    widget: Widget, django_capture_on_commit_callbacks: Capture
) -> None:
    acme = make_account("Acme", domain="acme.example")
    token = _token(widget, email="jo@acme.example")
    with django_capture_on_commit_callbacks(execute=True):
        response = widget.send(token, "My order is late", client_message_id="c-1")
    assert response.status_code == 202
    assert response.json() == {"id": "c-1"}
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    conversation = Conversation.objects.get()
    assert conversation.account == acme
    assert conversation.mapping_method == "email_domain"
    assert Message.objects.get().text == "My order is late"


def test_a_gmail_visitor_leaves_the_conversation_unmatched(
    widget: Widget, django_capture_on_commit_callbacks: Capture
) -> None:
    make_account("Acme", domain="acme.example")
    token = _token(widget, email="jo.buyer@gmail.com")
    with django_capture_on_commit_callbacks(execute=True):
        assert widget.send(token, "Hello").status_code == 202
    conversation = Conversation.objects.get()
    assert conversation.account is None
    assert conversation.mapping_outcome == "unmatched"


def test_three_deliveries_of_one_message_store_it_once(
    widget: Widget, django_capture_on_commit_callbacks: Capture
) -> None:
    token = _token(widget)
    answers = []
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            answers.append(widget.send(token, "Hello", client_message_id="same-id"))
    assert [a.status_code for a in answers] == [202, 202, 202]
    assert {a.json()["id"] for a in answers} == {"same-id"}
    assert InboundEvent.objects.count() == 1
    assert Message.objects.count() == 1
    assert len(widget.poll(token).json()["items"]) == 1


@pytest.mark.parametrize("token", ["", "wcv_wrong", "rpt_something", "x" * 300])
def test_a_bad_token_answers_401_and_nothing_is_stored(widget: Widget, token: str) -> None:
    _token(widget)
    response = widget.send(token, "Hello")
    assert response.status_code == 401
    assert "start the chat again" in response.json()["error"]
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    assert widget.poll(token).status_code == 401
    assert not InboundEvent.objects.exists()


def test_a_token_of_another_site_answers_401(widget: Widget) -> None:
    token = _token(widget)
    other = Widget(make_site("Globex", origins=[ORIGIN]))
    assert other.send(token, "Hello").status_code == 401
    assert other.poll(token).status_code == 401


@pytest.mark.parametrize(
    ("text", "error"), [("", "Write a message"), ("   ", "Write a message"), ("x" * 4001, "longer")]
)
def test_an_empty_or_oversized_message_answers_400(widget: Widget, text: str, error: str) -> None:
    token = _token(widget)
    response = widget.send(token, text)
    assert response.status_code == 400
    assert error in response.json()["error"]
    assert not InboundEvent.objects.exists()


def test_a_body_over_the_size_limit_answers_400(widget: Widget) -> None:
    token = _token(widget)
    response = widget.send(token, "x" * 70_000)
    assert response.status_code == 400
    assert response.json() == {"error": "The request is too large."}


# --- polling ------------------------------------------------------------------------------------


def test_a_team_reply_appears_in_the_poll(
    widget: Widget, member_user: User, django_capture_on_commit_callbacks: Capture
) -> None:
    member_user.name = "Max Member"
    member_user.save()
    token = _token(widget, name="Jo Buyer")
    assert widget.poll(token).json() == {"items": []}
    with django_capture_on_commit_callbacks(execute=True):
        widget.send(token, "Where is my order?", client_message_id="c-1")

    first = widget.poll(token)
    assert first.status_code == 200
    assert first["Access-Control-Allow-Origin"] == ORIGIN
    assert first["Cache-Control"] == "no-store"
    [mine] = first.json()["items"]
    assert mine["direction"] == "inbound"
    assert mine["author"] == "Jo Buyer"
    assert mine["text"] == "Where is my order?"
    assert mine["client_message_id"] == "c-1"
    assert mine["sent_at"]

    conversation = Conversation.objects.get()
    reply = conversation_reply(actor=member_user, conversation=conversation, text="Today!")
    newer = widget.poll(token, after=str(mine["id"])).json()["items"]
    assert newer == [
        {
            "id": reply.pk,
            "direction": "outbound",
            "author": "Max Member",
            "text": "Today!",
            "sent_at": reply.sent_at.isoformat(),
        }
    ]
    by_time = widget.poll(token, after=mine["sent_at"]).json()["items"]
    assert [item["id"] for item in by_time] == [reply.pk]
    assert widget.poll(token, after=str(reply.pk)).json() == {"items": []}


def test_a_reply_by_a_member_without_a_name_shows_the_site_name_never_an_email(
    widget: Widget, make_user: Callable[..., User], django_capture_on_commit_callbacks: Capture
) -> None:
    nameless = make_user("agent@rapport.example")
    token = _token(widget)
    with django_capture_on_commit_callbacks(execute=True):
        widget.send(token, "Hi")
    widget.poll(token)
    conversation_reply(actor=nameless, conversation=Conversation.objects.get(), text="Hello!")
    items = widget.poll(token).json()["items"]
    assert items[-1]["author"] == "Acme Shop"
    assert "agent@rapport.example" not in str(items)


def test_a_poll_with_a_bad_after_answers_400(widget: Widget) -> None:
    token = _token(widget)
    response = widget.poll(token, after="yesterday")
    assert response.status_code == 400
    assert "after" in response.json()["error"]


def test_a_poll_issues_a_constant_number_of_queries(
    widget: Widget,
    member_user: User,
    django_capture_on_commit_callbacks: Capture,
    django_assert_num_queries: Callable[..., Any],
) -> None:
    token = _token(widget)
    with django_capture_on_commit_callbacks(execute=True):
        widget.send(token, "First", client_message_id="1")
    widget.poll(token)  # links the visitor to its conversation
    conversation = Conversation.objects.get()
    for n in range(10):
        conversation_reply(actor=member_user, conversation=conversation, text=f"Reply {n}")
    # The site, the visitor, the messages.
    with django_assert_num_queries(3):
        items = widget.poll(token).json()["items"]
    assert len(items) == 11


# --- rate limits --------------------------------------------------------------------------------


def test_a_visitor_sending_too_fast_gets_429_with_retry_after(
    widget: Widget, settings: Any, django_capture_on_commit_callbacks: Capture
) -> None:
    settings.WEBCHAT_VISITOR_MESSAGES_PER_MINUTE = 3
    token = _token(widget)
    other = _token(widget, email="max@acme.example")
    with django_capture_on_commit_callbacks(execute=True):
        answers = [widget.send(token, f"Message {n}") for n in range(4)]
        # Another visitor from the same network is not held back by the first one.
        assert widget.send(other, "Me too").status_code == 202
    assert [a.status_code for a in answers] == [202, 202, 202, 429]
    refused = answers[-1]
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert "too quickly" in refused.json()["error"]
    assert refused["Access-Control-Allow-Origin"] == ORIGIN
    assert "Retry-After" in refused["Access-Control-Expose-Headers"]
    assert InboundEvent.objects.count() == 4


def test_an_ip_making_too_many_requests_gets_429_with_retry_after(
    widget: Widget, settings: Any
) -> None:
    settings.WEBCHAT_IP_REQUESTS_PER_MINUTE = 3
    token = _token(widget, REMOTE_ADDR="198.51.100.4")
    answers = [widget.poll(token, REMOTE_ADDR="198.51.100.4") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert 1 <= int(answers[-1]["Retry-After"]) <= 60
    assert widget.start(REMOTE_ADDR="198.51.100.4").status_code == 429
    assert ChatVisitor.objects.count() == 1
    # Another address still gets through; preflights are never counted.
    assert widget.poll(token, REMOTE_ADDR="198.51.100.5").status_code == 200
    preflight = widget.client.options(
        widget.url("messages"), headers={"Origin": ORIGIN}, REMOTE_ADDR="198.51.100.4"
    )
    assert preflight.status_code == 204


def test_forwarded_for_is_ignored_unless_trusted(widget: Widget, settings: Any) -> None:
    settings.WEBCHAT_IP_REQUESTS_PER_MINUTE = 1
    spoofed = {"HTTP_X_FORWARDED_FOR": "192.0.2.1", "REMOTE_ADDR": "10.0.0.9"}
    assert widget.start(**spoofed).status_code == 201
    # Untrusted: both calls come from 10.0.0.9, whatever the header says.
    other = {"HTTP_X_FORWARDED_FOR": "192.0.2.2", "REMOTE_ADDR": "10.0.0.9"}
    assert widget.start(**other).status_code == 429


def test_the_first_forwarded_hop_is_the_client_when_trusted(widget: Widget, settings: Any) -> None:
    settings.WEBCHAT_IP_REQUESTS_PER_MINUTE = 1
    settings.TRUST_X_FORWARDED_FOR = True
    proxy = "10.0.0.9"
    first = widget.start(HTTP_X_FORWARDED_FOR="192.0.2.1, 10.0.0.1", REMOTE_ADDR=proxy)
    assert first.status_code == 201
    assert ChatVisitor.objects.get().ip == "192.0.2.1"
    assert widget.start(HTTP_X_FORWARDED_FOR="192.0.2.1", REMOTE_ADDR=proxy).status_code == 429
    assert widget.start(HTTP_X_FORWARDED_FOR="192.0.2.2", REMOTE_ADDR=proxy).status_code == 201


def test_ipv6_callers_are_counted_by_their_network(widget: Widget, settings: Any) -> None:
    settings.WEBCHAT_IP_REQUESTS_PER_MINUTE = 1
    assert widget.start(REMOTE_ADDR="2001:db8:1:2::1").status_code == 201
    assert widget.start(REMOTE_ADDR="2001:db8:1:2::ffff").status_code == 429
    assert widget.start(REMOTE_ADDR="2001:db8:1:3::1").status_code == 201


# --- the widget script --------------------------------------------------------------------------


def test_the_widget_script_is_served_as_javascript_for_an_active_key(site: ChatSite) -> None:
    response = Client().get(reverse("webchat:widget", args=[site.public_key]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert "max-age" in response["Cache-Control"]
    source = response.content.decode()
    assert "attachShadow" in source
    assert "/webchat/api/" in source


def test_the_widget_path_is_the_one_line_snippet(site: ChatSite) -> None:
    assert reverse("webchat:widget", args=[site.public_key]) == (
        f"/webchat/{site.public_key}/widget.js"
    )


def test_the_widget_script_of_an_unknown_key_answers_404(db: None) -> None:
    response = Client().get("/webchat/pk_nope/widget.js")
    assert response.status_code == 404
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
