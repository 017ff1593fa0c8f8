"""Request buttons, the "Assign to" shortcut and satisfaction ratings, clicked in Slack."""

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from rapport.inbox.models import Message
from rapport.integrations.slack.tests.conftest import (
    ACTIONS_URL,
    ADMIN_SLACK,
    CHANNEL,
    CUSTOMER,
    MEMBER_SLACK,
    TEAM,
    TRIAGE,
    FakeSlackApi,
    Response,
    Workspace,
    action_ids,
    all_text,
    block_action,
    payload,
    post_form_signed,
)
from rapport.requests.models import Request, RequestOrigin, RequestStatus
from rapport.requests.services import request_close, request_create, request_settings_update

pytestmark = pytest.mark.django_db

Capture = Callable[..., Any]
Interact = Callable[[dict[str, Any]], Response]
ROOT_TS = "1767225600.000100"
STRANGER = "U0999EVE"


@pytest.fixture
def request_(
    workspace: Workspace,
    customer_message: Callable[..., Message],
    django_capture_on_commit_callbacks: Capture,
) -> Request:
    """An open, unassigned request whose card is in the triage channel."""
    message = customer_message("Our weekly export fails since Monday. Can you look?")
    with django_capture_on_commit_callbacks(execute=True):
        request = request_create(message=message, origin=RequestOrigin.DETECTED)
    request.refresh_from_db()
    assert request.notification_ts
    return request


def click(
    request: Request, action_id: str, *, user: str = MEMBER_SLACK, **more: Any
) -> dict[str, Any]:
    """A click on the request's triage card."""
    return block_action(
        "block_actions_message",
        user=user,
        action_id=action_id,
        block_id=f"request:{request.pk}",
        value=str(request.pk),
        channel=request.notification_channel,
        message_ts=request.notification_ts,
        **more,
    )


def card(slack: FakeSlackApi) -> dict[str, Any]:
    [only] = slack.in_channel(TRIAGE)
    return only


def test_looking_into_it_on_the_card_assigns_the_member_who_clicked(
    slack: FakeSlackApi, request_: Request, workspace: Workspace, interact: Interact
) -> None:
    response = interact(click(request_, "request_take"))
    assert response.status_code == 200
    request_.refresh_from_db()
    assert request_.assignee == workspace.member
    # Everyone in the triage channel sees who has it; the customer sees 👀.
    assert f"<@{MEMBER_SLACK}>" in all_text(card(slack)["blocks"])
    assert "request_take" not in action_ids(card(slack)["blocks"])
    assert (CHANNEL, ROOT_TS, "eyes") in slack.reactions
    assert request_.activities.filter(kind="assigned").get().data["via"] == "slack"


def test_assign_to_on_the_card_gives_the_request_to_the_chosen_member_and_dms_them(
    slack: FakeSlackApi, request_: Request, workspace: Workspace, interact: Interact
) -> None:
    body = click(request_, "request_assign", user=ADMIN_SLACK, selected_user=MEMBER_SLACK)
    assert interact(body).status_code == 200
    request_.refresh_from_db()
    assert request_.assignee == workspace.member
    [dm] = slack.in_channel("D0111MAX")
    assert dm["text"] == "Ada Admin assigned you a request from Jane Doe"
    assert f"<@{MEMBER_SLACK}>" in all_text(card(slack)["blocks"])


def test_assigning_to_someone_who_is_not_a_member_is_refused_with_an_ephemeral(
    slack: FakeSlackApi, request_: Request, interact: Interact
) -> None:
    interact(click(request_, "request_assign", selected_user=STRANGER))
    request_.refresh_from_db()
    assert request_.assignee is None
    [ephemeral] = slack.asked("chat.postEphemeral")
    assert ephemeral["user"] == MEMBER_SLACK
    assert ephemeral["channel"] == TRIAGE
    assert "not a Rapport member" in ephemeral["text"]


def test_close_on_the_card_closes_the_request_and_marks_the_message_done(
    slack: FakeSlackApi, request_: Request, workspace: Workspace, interact: Interact
) -> None:
    interact(click(request_, "request_close"))
    request_.refresh_from_db()
    assert request_.status == RequestStatus.CLOSED
    assert request_.closed_by == workspace.member
    assert "Closed" in all_text(card(slack)["blocks"])
    assert action_ids(card(slack)["blocks"]) == ["request_reopen", "request_open"]
    assert (CHANNEL, ROOT_TS, "white_check_mark") in slack.reactions


def test_put_on_hold_then_resume_and_reopen_after_closing(
    slack: FakeSlackApi, request_: Request, interact: Interact
) -> None:
    interact(click(request_, "request_hold"))
    request_.refresh_from_db()
    assert request_.status == RequestStatus.PENDING
    assert "On hold" in all_text(card(slack)["blocks"])
    assert "Resume" in all_text(card(slack)["blocks"])
    interact(click(request_, "request_reopen"))
    request_.refresh_from_db()
    assert request_.status == RequestStatus.OPEN
    interact(click(request_, "request_close"))
    interact(click(request_, "request_reopen"))
    request_.refresh_from_db()
    assert request_.status == RequestStatus.OPEN
    assert request_.closed_at is None


def test_a_click_from_someone_who_is_not_a_member_changes_nothing_and_says_why(
    slack: FakeSlackApi, request_: Request, interact: Interact
) -> None:
    updates = len(slack.asked("chat.update"))
    for action in ("request_take", "request_close", "request_hold"):
        response = interact(click(request_, action, user=STRANGER))
        assert response.status_code == 200
    request_.refresh_from_db()
    assert request_.assignee is None
    assert request_.status == RequestStatus.OPEN
    assert len(slack.asked("chat.update")) == updates
    errors = slack.asked("chat.postEphemeral")
    assert len(errors) == 3
    assert all(
        e["user"] == STRANGER and "not linked to a Rapport member" in e["text"] for e in errors
    )


def test_an_inactive_member_is_no_member(
    slack: FakeSlackApi, request_: Request, workspace: Workspace, interact: Interact
) -> None:
    type(workspace.member).objects.filter(pk=workspace.member.pk).update(is_active=False)
    interact(click(request_, "request_take"))
    request_.refresh_from_db()
    assert request_.assignee is None
    assert "not linked" in slack.asked("chat.postEphemeral")[0]["text"]


def test_a_click_on_a_request_that_is_gone_says_so(
    slack: FakeSlackApi, request_: Request, interact: Interact
) -> None:
    body = click(request_, "request_take")
    body["actions"][0]["block_id"] = "request:999999"
    assert interact(body).status_code == 200
    assert "no longer exists" in slack.asked("chat.postEphemeral")[0]["text"]


def test_create_ticket_sends_the_thread_to_the_ticketing_tool(
    slack: FakeSlackApi, request_: Request, workspace: Workspace, interact: Interact
) -> None:
    request_settings_update(
        actor=workspace.admin, values={"ticket_address": "support@tickets.example"}
    )
    interact(click(request_, "request_ticket"))
    request_.refresh_from_db()
    assert request_.ticket_sent_at is not None
    [email] = mail.outbox
    assert email.to == ["support@tickets.example"]
    assert "Our weekly export fails" in email.body
    # A second click cannot create a second ticket.
    interact(click(request_, "request_ticket"))
    assert len(mail.outbox) == 1
    assert "already" in slack.asked("chat.postEphemeral")[-1]["text"]


def test_create_ticket_without_a_ticketing_address_is_refused(
    slack: FakeSlackApi, request_: Request, interact: Interact
) -> None:
    interact(click(request_, "request_ticket"))
    request_.refresh_from_db()
    assert request_.ticket_sent_at is None
    assert "ticketing" in slack.asked("chat.postEphemeral")[0]["text"]


def test_a_click_in_the_assignee_dm_updates_that_dm(
    slack: FakeSlackApi, request_: Request, workspace: Workspace, interact: Interact
) -> None:
    interact(click(request_, "request_assign", user=ADMIN_SLACK, selected_user=MEMBER_SLACK))
    [dm] = slack.in_channel("D0111MAX")
    body = click(request_, "request_close")
    body["container"]["channel_id"] = body["channel"]["id"] = "D0111MAX"
    body["channel"]["name"] = "directmessage"
    body["container"]["message_ts"] = body["message"]["ts"] = dm["ts"]
    body["message"]["text"] = dm["text"]
    interact(body)
    request_.refresh_from_db()
    assert request_.status == RequestStatus.CLOSED
    [dm] = slack.in_channel("D0111MAX")
    assert dm["text"] == "Ada Admin assigned you a request from Jane Doe"
    assert action_ids(dm["blocks"]) == ["request_reopen", "request_open"]


def test_the_open_in_rapport_link_is_acknowledged(
    slack: FakeSlackApi, request_: Request, interact: Interact
) -> None:
    response = interact(click(request_, "request_open"))
    assert response.status_code == 200
    assert slack.asked("chat.postEphemeral") == []


def test_an_unsigned_click_is_refused(
    slack: FakeSlackApi, request_: Request, client: Client
) -> None:
    body = json.dumps(click(request_, "request_close"))
    response = client.post(
        ACTIONS_URL,
        data={"payload": body},
        headers={"X-Slack-Request-Timestamp": "1767300000", "X-Slack-Signature": "v0=" + "0" * 64},
    )
    assert response.status_code == 401
    request_.refresh_from_db()
    assert request_.status == RequestStatus.OPEN


# --- "Assign to" message shortcut -------------------------------------------------------------


def shortcut(user: str = MEMBER_SLACK, ts: str = ROOT_TS) -> dict[str, Any]:
    body = payload("message_action")
    body["user"]["id"] = user
    body["message_ts"] = body["message"]["ts"] = ts
    return body


def assign_submission(view: dict[str, Any], *, user: str, assignee: str) -> dict[str, Any]:
    body = payload("view_submission")
    body["user"]["id"] = user
    body["view"].update(
        callback_id=view["callback_id"],
        private_metadata=view["private_metadata"],
        blocks=view["blocks"],
        state={
            "values": {
                "assignee": {"assignee": {"type": "users_select", "selected_user": assignee}}
            }
        },
    )
    return body


def test_assign_to_makes_a_customer_message_a_request_assigned_to_the_chosen_member(
    slack: FakeSlackApi,
    workspace: Workspace,
    customer_message: Callable[..., Message],
    interact: Interact,
) -> None:
    message = customer_message("FYI, the new dashboard looks great")
    assert not Request.objects.exists()  # not detected as a request (detection is off)
    assert interact(shortcut(user=ADMIN_SLACK)).status_code == 200
    [opened] = slack.asked("views.open")
    assert opened["trigger_id"] == payload("message_action")["trigger_id"]
    modal = opened["view"]
    assert modal["callback_id"] == "assign_message"
    assert action_ids([{"type": "actions", "elements": [modal["blocks"][0]["element"]]}]) == [
        "assignee"
    ]

    response = interact(assign_submission(modal, user=ADMIN_SLACK, assignee=MEMBER_SLACK))
    assert response.status_code == 200
    assert response.content in (b"", b"{}")  # the modal closes
    request = Request.objects.get()
    assert request.message == message
    assert request.origin == RequestOrigin.ASSIGNED
    assert request.assignee == workspace.member
    # Like any assignment: the assignee hears of it, the card and 👀 go out.
    [dm] = slack.in_channel("D0111MAX")
    assert "assigned you a request" in dm["text"]
    assert f"<@{MEMBER_SLACK}>" in all_text(card(slack)["blocks"])
    assert (CHANNEL, ROOT_TS, "eyes") in slack.reactions


def test_assign_to_on_a_message_rapport_has_not_stored_says_so_in_the_modal(
    slack: FakeSlackApi, workspace: Workspace, interact: Interact
) -> None:
    assert interact(shortcut(ts="1767229999.000900")).status_code == 200
    [opened] = slack.asked("views.open")
    assert "has not stored this message" in all_text(opened["view"]["blocks"])
    assert "submit" not in opened["view"]
    assert not Request.objects.exists()


def test_assign_to_by_someone_who_is_not_a_member_opens_no_form(
    slack: FakeSlackApi,
    workspace: Workspace,
    customer_message: Callable[..., Message],
    interact: Interact,
) -> None:
    customer_message()
    interact(shortcut(user=STRANGER))
    [opened] = slack.asked("views.open")
    assert "not linked to a Rapport member" in all_text(opened["view"]["blocks"])


def test_assign_to_on_a_teammates_message_explains_it_is_not_a_customers(
    slack: FakeSlackApi,
    workspace: Workspace,
    deliver: Callable[..., Response],
    interact: Interact,
) -> None:
    body = payload("message")
    body["event"].update(user=MEMBER_SLACK, text="We shipped the fix, please try again")
    deliver(body)
    assert Message.objects.get().direction == "outbound"
    interact(shortcut())
    [opened] = slack.asked("views.open")
    assert "not by a customer" in all_text(opened["view"]["blocks"])
    assert not Request.objects.exists()


def test_the_assign_to_modal_refuses_an_assignee_who_is_not_a_member(
    slack: FakeSlackApi,
    workspace: Workspace,
    customer_message: Callable[..., Message],
    interact: Interact,
) -> None:
    customer_message()
    interact(shortcut())
    modal = slack.asked("views.open")[0]["view"]
    response = interact(assign_submission(modal, user=MEMBER_SLACK, assignee=STRANGER))
    assert response.status_code == 200
    answer = response.json()
    assert answer["response_action"] == "errors"
    assert "not a Rapport member" in answer["errors"]["assignee"]
    assert not Request.objects.exists()


def test_assign_to_on_a_message_of_an_existing_request_reassigns_it(
    slack: FakeSlackApi, request_: Request, workspace: Workspace, interact: Interact
) -> None:
    interact(shortcut(user=ADMIN_SLACK))
    modal = slack.asked("views.open")[0]["view"]
    interact(assign_submission(modal, user=ADMIN_SLACK, assignee=ADMIN_SLACK))
    request_.refresh_from_db()
    assert Request.objects.count() == 1
    assert request_.assignee == workspace.admin


# --- satisfaction survey ---------------------------------------------------------------------


@pytest.fixture
def survey(
    slack: FakeSlackApi,
    request_: Request,
    workspace: Workspace,
    django_capture_on_commit_callbacks: Capture,
) -> dict[str, Any]:
    """The survey posted in the request's thread once a member closed it."""
    with django_capture_on_commit_callbacks(execute=True):
        request_close(request=request_, actor=workspace.member)
    [posted] = [m for m in slack.in_channel(CHANNEL) if m["thread_ts"] == ROOT_TS]
    return posted


def rate(
    request: Request, survey: dict[str, Any], score: int, user: str = CUSTOMER
) -> dict[str, Any]:
    body = block_action(
        "block_actions_message",
        user=user,
        action_id=f"csat_rate_{score}",
        block_id=f"csat:{request.pk}",
        value=str(score),
        channel=CHANNEL,
        message_ts=survey["ts"],
    )
    body["user"]["team_id"] = TEAM
    body["message"]["thread_ts"] = ROOT_TS
    return body


def test_the_customer_rating_is_stored_and_the_survey_thanks_them(
    slack: FakeSlackApi, request_: Request, survey: dict[str, Any], interact: Interact
) -> None:
    assert interact(rate(request_, survey, 4)).status_code == 200
    request_.refresh_from_db()
    assert request_.csat_score == 4
    assert request_.csat_at is not None
    [thanked] = [m for m in slack.in_channel(CHANNEL) if m["ts"] == survey["ts"]]
    assert thanked["text"] == "Thanks for rating! You gave 4 of 5."
    assert action_ids(thanked["blocks"]) == []
    # A change of mind replaces the score.
    interact(rate(request_, survey, 5))
    request_.refresh_from_db()
    assert request_.csat_score == 5


def test_a_member_cannot_rate_a_request(
    slack: FakeSlackApi, request_: Request, survey: dict[str, Any], interact: Interact
) -> None:
    interact(rate(request_, survey, 1, user=MEMBER_SLACK))
    request_.refresh_from_db()
    assert request_.csat_score is None
    [ephemeral] = slack.asked("chat.postEphemeral")
    assert "Only the customer" in ephemeral["text"]
    assert ephemeral["thread_ts"] == ROOT_TS


def test_a_rating_of_a_request_not_surveyed_is_refused(
    slack: FakeSlackApi, request_: Request, interact: Interact
) -> None:
    fake_survey = {"ts": "1767300000.999999"}
    interact(rate(request_, fake_survey, 5))
    request_.refresh_from_db()
    assert request_.csat_score is None
    assert "not asked for a rating" in slack.asked("chat.postEphemeral")[0]["text"]


def test_clicks_in_the_app_home_refresh_it(
    slack: FakeSlackApi, request_: Request, workspace: Workspace, interact: Interact
) -> None:
    body = block_action(
        "block_actions_home",
        user=MEMBER_SLACK,
        action_id="request_take",
        block_id=f"request:{request_.pk}",
        value=str(request_.pk),
    )
    assert interact(body).status_code == 200
    request_.refresh_from_db()
    assert request_.assignee == workspace.member
    [published] = slack.asked("views.publish")
    assert published["user_id"] == MEMBER_SLACK
    assert "My requests (1)" in all_text(published["view"]["blocks"])
    assert "Incoming requests (0)" in all_text(published["view"]["blocks"])


def test_an_app_home_click_by_a_stranger_answers_in_a_modal(
    slack: FakeSlackApi, request_: Request, interact: Interact
) -> None:
    body = block_action(
        "block_actions_home",
        user=STRANGER,
        action_id="request_take",
        block_id=f"request:{request_.pk}",
        value=str(request_.pk),
    )
    interact(body)
    [opened] = slack.asked("views.open")
    assert "not linked to a Rapport member" in all_text(opened["view"]["blocks"])
    request_.refresh_from_db()
    assert request_.assignee is None


def test_the_actions_endpoint_needs_the_signing_secret(
    slack: FakeSlackApi, settings: Any, client: Client
) -> None:
    settings.SLACK_SIGNING_SECRET = ""
    response = post_form_signed(
        client, ACTIONS_URL, {"payload": json.dumps(payload("message_action"))}
    )
    assert response.status_code == 503
