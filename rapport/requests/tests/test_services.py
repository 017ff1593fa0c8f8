"""Request actions and the automations they trigger, as the outbox records them."""

import datetime
import re
from collections.abc import Callable

import pytest
from django.core import mail

from rapport.core.errors import InvalidInput, PermissionDenied
from rapport.inbox.models import Channel
from rapport.outbox.models import OutboxItem
from rapport.outbox.services import outbox_deliver_due
from rapport.requests.automations import requests_auto_close, requests_nudge
from rapport.requests.csat import csat_request_from_token, csat_token
from rapport.requests.models import ActivityKind, Request, RequestOrigin, RequestStatus
from rapport.requests.services import (
    channel_request_settings_update,
    message_assign,
    request_assign,
    request_close,
    request_csat_record,
    request_hold,
    request_reopen,
    request_settings_update,
    request_take,
    request_ticket_create,
)
from rapport.requests.tests.kit import email_post, request_of, slack_post
from rapport.users.models import User

pytestmark = pytest.mark.django_db
ASK = "Our SSO login is failing for everyone since this morning, can you check?"


@pytest.fixture
def request_(channel: Channel) -> Request:
    request = request_of(slack_post(channel, ASK))
    assert request is not None
    return request


def actions() -> list[str]:
    return list(OutboxItem.objects.order_by("id").values_list("action", flat=True))


def test_the_default_settings_match_the_reference(boss: User) -> None:
    from rapport.requests.config import request_settings_get

    settings = request_settings_get()
    assert settings.detection_enabled and settings.detection_mode == "aggressive"
    assert settings.grouping_window_seconds == 120
    assert settings.assign_first_responder and settings.assign_csm and settings.dm_assignee
    assert settings.emoji_enabled and not settings.status_updates
    assert settings.auto_close_days == 30
    assert settings.nudge_after_hours == 24
    assert settings.emoji_assigned == "eyes" and settings.emoji_closed == "white_check_mark"


def test_looking_into_it_assigns_and_marks_the_message(request_: Request, agent: User) -> None:
    request_take(request=request_, actor=agent)
    request_.refresh_from_db()
    assert request_.assignee == agent
    reaction = OutboxItem.objects.get(action="slack.reaction")
    channel_id, ts = request_.message.external_id.split(":")[1:]  # type: ignore[union-attr]
    assert reaction.payload == {"channel": channel_id, "timestamp": ts, "name": "eyes"}
    # Taking it yourself needs no DM, nor the thread's private actions.
    assert "slack.dm" not in actions()
    assert "slack.thread_actions" not in actions()


def test_assigning_someone_else_tells_them(request_: Request, agent: User, boss: User) -> None:
    request_assign(request=request_, assignee=agent, actor=boss)
    dm = OutboxItem.objects.get(action="slack.dm")
    assert dm.payload["user"] == "U0AGENT"
    assert "Ada Admin assigned you a request" in dm.payload["text"]


def test_a_member_without_slack_is_told_by_email(
    request_: Request, boss: User, make_user: Callable[..., User]
) -> None:
    kim = make_user("kim@rapport.example", name="Kim")
    request_assign(request=request_, assignee=kim, actor=boss)
    item = OutboxItem.objects.get(action="email.send")
    assert item.payload["to"] == ["kim@rapport.example"]
    outbox_deliver_due()
    assert mail.outbox[-1].to == ["kim@rapport.example"]
    assert f"/requests/{request_.pk}/" in mail.outbox[-1].body


def test_closing_adds_the_closed_emoji_and_asks_for_a_rating(
    request_: Request, agent: User
) -> None:
    request_close(request=request_, actor=agent)
    request_.refresh_from_db()
    assert request_.status == RequestStatus.CLOSED
    assert request_.closed_by == agent and request_.closed_at is not None
    names = [i.payload["name"] for i in OutboxItem.objects.filter(action="slack.reaction")]
    assert names == ["white_check_mark"]
    assert OutboxItem.objects.filter(action="slack.csat_survey").exists()
    assert request_.csat_requested_at is not None


def test_emoji_can_be_turned_off(request_: Request, agent: User, boss: User) -> None:
    request_settings_update(actor=boss, values={"emoji_enabled": False})
    request_take(request=request_, actor=agent)
    request_close(request=request_, actor=agent)
    assert "slack.reaction" not in actions()


def test_status_updates_in_the_thread_are_off_by_default_and_can_be_turned_on(
    request_: Request, agent: User, boss: User, channel: Channel
) -> None:
    request_hold(request=request_, actor=agent)
    assert "slack.thread_post" not in actions()
    channel_request_settings_update(actor=boss, channel=channel, values={"status_updates": True})
    request_reopen(request=request_, actor=agent)
    post = OutboxItem.objects.get(action="slack.thread_post")
    assert post.payload["text"] == "This request is open again."
    assert post.payload["thread_ts"] == request_.conversation.thread_key.split(":")[2]


def test_the_triage_channel_gets_a_card_and_its_updates(
    channel: Channel, boss: User, agent: User
) -> None:
    request_settings_update(actor=boss, values={"triage_channel_id": "C0TRIAGE"})
    request = request_of(slack_post(channel, ASK))
    assert request is not None
    request_take(request=request, actor=agent)
    cards = OutboxItem.objects.filter(action="slack.request_card")
    assert [c.payload for c in cards] == [{"request_id": request.pk, "channel": "C0TRIAGE"}] * 2


def test_no_triage_channel_means_no_card(request_: Request) -> None:
    assert "slack.request_card" not in actions()


def test_reopen_and_hold_record_the_timeline(request_: Request, agent: User) -> None:
    request_close(request=request_, actor=agent)
    request_reopen(request=request_, actor=agent)
    request_hold(request=request_, actor=agent)
    request_.refresh_from_db()
    assert request_.status == RequestStatus.PENDING
    assert request_.closed_at is None
    steps = [
        (a.data["from"], a.data["to"])
        for a in request_.activities.filter(kind=ActivityKind.STATUS).order_by("at", "id")
    ]
    assert steps == [("open", "closed"), ("closed", "open"), ("open", "pending")]


def test_a_ticket_needs_a_configured_ticketing_address(request_: Request, agent: User) -> None:
    with pytest.raises(InvalidInput, match="No ticketing tool"):
        request_ticket_create(request=request_, actor=agent)
    request_.refresh_from_db()
    assert request_.ticket_sent_at is None


def test_a_ticket_sends_the_thread_to_the_ticketing_tool(
    request_: Request, agent: User, boss: User
) -> None:
    request_settings_update(actor=boss, values={"ticket_address": "support@tickets.example"})
    request_ticket_create(request=request_, actor=agent)
    request_.refresh_from_db()
    assert f"request-{request_.pk}-" in request_.ticket_reference
    outbox_deliver_due()
    sent = mail.outbox[-1]
    assert sent.to == ["support@tickets.example"]
    assert sent.extra_headers["Message-ID"] == request_.ticket_reference
    assert ASK in sent.body
    with pytest.raises(InvalidInput, match="already"):
        request_ticket_create(request=request_, actor=agent)


def test_assigning_a_message_that_was_not_detected_makes_it_a_request(
    channel: Channel, agent: User, boss: User
) -> None:
    message = slack_post(channel, "fyi the new release looks good")
    assert request_of(message) is None
    request = message_assign(message=message, assignee=agent, actor=boss)
    assert request.origin == RequestOrigin.ASSIGNED
    assert request.assignee == agent
    assert OutboxItem.objects.filter(action="slack.dm").exists()


def test_requests_idle_for_30_days_close_by_themselves(request_: Request) -> None:
    Request.objects.filter(pk=request_.pk).update(
        last_activity_at=request_.last_activity_at - datetime.timedelta(days=29)
    )
    assert requests_auto_close() == 0
    Request.objects.filter(pk=request_.pk).update(
        last_activity_at=request_.last_activity_at - datetime.timedelta(days=31)
    )
    assert requests_auto_close() == 1
    request_.refresh_from_db()
    assert request_.status == RequestStatus.CLOSED
    assert request_.activities.filter(kind=ActivityKind.STATUS, data__via="auto_close").exists()


def test_a_channel_can_turn_auto_close_off(request_: Request, boss: User, channel: Channel) -> None:
    channel_request_settings_update(actor=boss, channel=channel, values={"auto_close_days": 0})
    Request.objects.filter(pk=request_.pk).update(
        last_activity_at=request_.last_activity_at - datetime.timedelta(days=90)
    )
    assert requests_auto_close() == 0


def test_the_assignee_is_nudged_once_after_a_day(request_: Request, agent: User) -> None:
    request_take(request=request_, actor=agent)
    assert requests_nudge() == 0
    Request.objects.filter(pk=request_.pk).update(
        assigned_at=request_.assigned_at - datetime.timedelta(hours=25)  # type: ignore[operator]
    )
    assert requests_nudge() == 1
    assert requests_nudge() == 0
    dm = OutboxItem.objects.get(action="slack.dm", payload__kind="nudge")
    assert dm.payload["user"] == "U0AGENT"


def test_csat_by_email_link_records_the_rating_and_revokes_old_links(agent: User) -> None:
    request = request_of(email_post("Please update our billing address", subject="Billing"))
    assert request is not None
    request_close(request=request, actor=agent)
    request.refresh_from_db()
    survey = OutboxItem.objects.get(action="email.send", payload__to=["sam@globex.example"])
    # The link the customer got (signed when the email was queued) names this request.
    link = re.search(r"/requests/rate/([^/\s]+)/", survey.payload["body"])
    assert link is not None
    token = link.group(1)
    assert csat_request_from_token(token) == request
    assert csat_request_from_token(csat_token(request)) == request
    request_csat_record(request=request, score=4, via="email")
    request.refresh_from_db()
    assert request.csat_score == 4
    # Reopened and closed again: a new survey, and the first link stops working.
    request_reopen(request=request, actor=agent)
    request_close(request=request, actor=agent)
    from rapport.core.errors import NotFound

    with pytest.raises(NotFound):
        csat_request_from_token(token)
    with pytest.raises(NotFound):
        csat_request_from_token(token[:-2] + "xx")


def test_a_rating_outside_1_to_5_is_refused(request_: Request, agent: User) -> None:
    request_close(request=request_, actor=agent)
    request_.refresh_from_db()
    for bad in (0, 6, "5", True):
        with pytest.raises(InvalidInput):
            request_csat_record(request=request_, score=bad, via="slack")  # type: ignore[arg-type]
    request_.refresh_from_db()
    assert request_.csat_score is None


def test_only_admins_change_settings_and_bad_values_change_nothing(agent: User, boss: User) -> None:
    with pytest.raises(PermissionDenied):
        request_settings_update(actor=agent, values={"auto_close_days": 5})
    for bad in (
        {"auto_close_days": -1},
        {"grouping_window_seconds": "soon"},
        {"detection_mode": "wild"},
        {"ticket_address": "not-an-address"},
        {"unknown": 1},
    ):
        with pytest.raises(InvalidInput):
            request_settings_update(actor=boss, values=bad)
    from rapport.requests.config import request_settings_get

    settings = request_settings_get()
    assert settings.auto_close_days == 30 and settings.grouping_window_seconds == 120
