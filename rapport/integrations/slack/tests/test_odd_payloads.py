"""Signed Slack deliveries of odd shape: a clear 200 or 4xx, never a 500, nothing stored.

Each is signed with the real signing secret, so it passes the signature and reaches
what reads the payload: the events, actions and commands addresses alike.
"""

import json
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client

from rapport.inbox.models import InboundEvent
from rapport.integrations.slack.tests.conftest import (
    ACTIONS_URL,
    COMMANDS_URL,
    EVENTS_URL,
    MEMBER_SLACK,
    FakeSlackApi,
    Workspace,
    payload,
    signed_headers,
)
from rapport.requests.models import Request

pytestmark = pytest.mark.django_db

URLS = [EVENTS_URL, ACTIONS_URL, COMMANDS_URL]


@pytest.fixture
def lenient_client() -> Client:
    """A client that shows a server error as the 500 Slack would get."""
    return Client(raise_request_exception=False)


def post(client: Client, url: str, raw: bytes, content_type: str) -> Any:
    return client.post(url, data=raw, content_type=content_type, headers=signed_headers(raw))


def post_interaction(client: Client, url: str, body: Any) -> Any:
    raw = urlencode({"payload": json.dumps(body)}).encode()
    return post(client, url, raw, "application/x-www-form-urlencoded")


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize(
    "raw",
    [b"[]", b"null", b"3", b'"text"', b"\xff\xfe{}", b'{"type": "event_callback", "event": []}'],
    ids=["list", "null", "number", "string", "not-utf8", "event-not-an-object"],
)
def test_a_signed_json_body_that_is_no_payload_is_400(
    slack: FakeSlackApi, lenient_client: Client, url: str, raw: bytes
) -> None:
    response = post(lenient_client, url, raw, "application/json")
    assert response.status_code == 400
    assert response.json()["error"].startswith("The ")
    assert not InboundEvent.objects.exists()


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize(
    "raw",
    [b"payload=%5B%5D", b"payload=null", b"payload=3", b"payload=%FF", b"\xff\xfe=1"],
    ids=["list", "null", "number", "not-utf8-payload", "not-utf8-form"],
)
def test_a_signed_form_that_is_no_payload_is_400(
    slack: FakeSlackApi, lenient_client: Client, url: str, raw: bytes
) -> None:
    response = post(lenient_client, url, raw, "application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert "not a Slack payload" in response.json()["error"]


def test_a_body_that_is_not_utf8_with_a_bad_signature_is_401(
    slack: FakeSlackApi, lenient_client: Client
) -> None:
    headers = signed_headers(b"something else")
    response = lenient_client.post(
        EVENTS_URL, data=b"\xff\xfe", content_type="application/json", headers=headers
    )
    assert response.status_code == 401


def _view_submission(**view: Any) -> dict[str, Any]:
    body = payload("view_submission")
    body["user"]["id"] = MEMBER_SLACK
    body["view"] = view
    return body


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        # Bolt took a modal without a type for a workflow step and raised KeyError.
        (_view_submission(id="V1", callback_id="assign_message"), "view has no type"),
        (
            _view_submission(id="V1", type="workflow_step", callback_id="step"),
            "no workflow_step",
        ),
        ({"type": "block_actions", "user": {"id": MEMBER_SLACK}, "actions": []}, "actions"),
        ({"type": "block_actions", "user": {"id": MEMBER_SLACK}, "actions": [None]}, "action"),
        ({"type": "block_actions", "user": {"id": MEMBER_SLACK}, "actions": "x"}, "actions"),
        (
            {"type": "block_actions", "user": {"id": MEMBER_SLACK}, "actions": [{"value": "1"}]},
            "action_id",
        ),
        (
            {
                "type": "block_actions",
                "user": "U0111MAX",
                "actions": [{"action_id": "request_take", "block_id": "request:1"}],
            },
            "user must be an object",
        ),
        ({"type": "shortcut", "callback_id": 3}, "callback_id must be text"),
        ({"type": "block_actions", "authorizations": [1]}, "authorizations"),
    ],
)
def test_a_signed_interaction_of_broken_shape_is_400(
    workspace: Workspace, lenient_client: Client, body: dict[str, Any], problem: str
) -> None:
    response = post_interaction(lenient_client, ACTIONS_URL, body)
    assert response.status_code == 400
    assert problem in response.json()["error"]
    assert not Request.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        _view_submission(id="V1", type="modal", callback_id="someone_elses_modal"),
        {"type": "view_closed", "user": {"id": MEMBER_SLACK}},
        {"type": "block_actions", "user": {"id": MEMBER_SLACK}},
        {
            "type": "block_actions",
            "user": {"id": MEMBER_SLACK},
            "actions": [{"action_id": "not_rapports", "block_id": "b"}],
        },
        {"type": "block_suggestion", "user": {"id": MEMBER_SLACK}, "action_id": "x"},
        {"type": "interactive_message", "callback_id": "legacy", "actions": [{"name": "x"}]},
        {"type": "dialog_submission", "callback_id": "legacy", "submission": {}},
        {"type": "workflow_step_edit", "callback_id": "step", "workflow_step": {}},
        {"type": "shortcut", "callback_id": "not_rapports", "user": {"id": MEMBER_SLACK}},
    ],
    ids=[
        "view-of-another-app",
        "view-closed",
        "click-without-actions",
        "another-apps-click",
        "options-request",
        "legacy-attachment-action",
        "legacy-dialog",
        "workflow-step-edit",
        "another-apps-shortcut",
    ],
)
def test_a_signed_interaction_rapport_does_not_handle_gets_a_clear_200(
    workspace: Workspace, lenient_client: Client, body: dict[str, Any]
) -> None:
    response = post_interaction(lenient_client, ACTIONS_URL, body)
    assert response.status_code == 200
    assert response.json() == {"ok": True, "unsupported": body["type"]}


def test_an_unknown_slash_command_gets_a_clear_200(
    workspace: Workspace, lenient_client: Client
) -> None:
    fields = payload("slash_command") | {"command": "/other"}
    raw = urlencode(fields).encode()
    response = post(lenient_client, COMMANDS_URL, raw, "application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert response.json()["unsupported"]


def test_the_signature_is_checked_on_the_raw_bytes() -> None:
    from rapport.integrations.slack.verify import slack_signature_valid

    body = b"\xff\xfe not utf-8"
    headers = signed_headers(body, timestamp=1_767_225_600)
    assert slack_signature_valid(
        "4d1c0e6b9a8f7e2d5c3b1a0f9e8d7c6b",
        body,
        headers["X-Slack-Request-Timestamp"],
        headers["X-Slack-Signature"],
        now=1_767_225_600 + 60,
    )
    assert not slack_signature_valid(
        "4d1c0e6b9a8f7e2d5c3b1a0f9e8d7c6b",
        body + b"!",
        headers["X-Slack-Request-Timestamp"],
        headers["X-Slack-Signature"],
        now=1_767_225_600 + 60,
    )
