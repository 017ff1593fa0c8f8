"""Detection, grouping and team replies, through the real ingest path and triage."""

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from rapport.accounts.tests.factories import make_channel
from rapport.inbox.models import Channel
from rapport.inbox.services import channel_set_csm
from rapport.outbox.models import OutboxItem
from rapport.requests import triage
from rapport.requests.models import PendingTriage, Request, RequestOrigin, RequestStatus
from rapport.requests.services import (
    channel_request_settings_update,
    request_close,
    request_settings_update,
    request_wait,
)
from rapport.requests.tests.conftest import ticket_message
from rapport.requests.tests.kit import BASE, email_post, request_of, slack_post
from rapport.requests.triage import triage_pending, triage_recover
from rapport.users.models import User

pytestmark = pytest.mark.django_db

ASK = "Hi team, our CSV export fails with a 500 error since this morning. Can you take a look?"
THANKS = "thanks a lot, that fixed it!"


def at(seconds: int) -> datetime.datetime:
    return BASE + datetime.timedelta(seconds=seconds)


def test_a_customer_question_becomes_an_open_unassigned_request(channel: Channel) -> None:
    message = slack_post(channel, ASK, at=at(0))
    request = request_of(message)
    assert request is not None
    assert request.status == RequestStatus.OPEN
    assert request.assignee is None
    assert request.origin == RequestOrigin.DETECTED
    assert request.account is not None and request.account.name == "Acme"
    assert request.created_at == at(0)
    assert request.requester_name == "Jane Customer"
    assert request.detection_score is not None and request.detection_score > 0.5


def test_thanks_and_greetings_do_not_become_requests(channel: Channel) -> None:
    for text in (THANKS, "Good morning everyone!", "ok 👍"):
        assert request_of(slack_post(channel, text)) is None
    assert not Request.objects.exists()


def test_detection_turned_off_for_the_workspace_creates_nothing(
    channel: Channel, boss: User
) -> None:
    request_settings_update(actor=boss, values={"detection_enabled": False})
    assert request_of(slack_post(channel, ASK)) is None


def test_detection_turned_off_for_one_channel_only(channel: Channel, boss: User) -> None:
    other = make_channel("globex-support")
    channel_request_settings_update(
        actor=boss, channel=channel, values={"detection_enabled": False}
    )
    assert request_of(slack_post(channel, ASK)) is None
    assert request_of(slack_post(other, ASK)) is not None
    channel_request_settings_update(actor=boss, channel=channel, values={"detection_enabled": None})
    assert request_of(slack_post(channel, ASK)) is not None


def test_a_team_members_own_message_is_never_a_request(channel: Channel, agent: User) -> None:
    assert request_of(slack_post(channel, ASK, member=agent)) is None


def test_follow_up_messages_within_the_window_join_the_request(channel: Channel) -> None:
    first = slack_post(channel, ASK, at=at(0))
    second = slack_post(channel, "It happens on every report we try.", at=at(60))
    third = slack_post(channel, "Here is a screenshot", at=at(170))  # 110 s after the second
    request = request_of(first)
    assert request is not None
    assert request_of(second) == request
    assert request_of(third) == request
    assert Request.objects.count() == 1
    request.refresh_from_db()
    assert request.last_customer_message_at == at(170)


def test_a_message_after_the_window_is_judged_on_its_own(channel: Channel) -> None:
    first = slack_post(channel, ASK, at=at(0))
    late = slack_post(channel, "ok great", at=at(121))
    assert request_of(first) is not None
    assert request_of(late) is None


def test_another_customers_message_does_not_join_the_group(channel: Channel) -> None:
    slack_post(channel, ASK, at=at(0))
    other = slack_post(
        channel,
        "Can someone reset my password?",
        at=at(30),
        customer="U0OTHER",
        email="bo@acme.example",
    )
    assert Request.objects.count() == 2
    assert request_of(other) is not None


def test_a_window_of_zero_turns_grouping_off(channel: Channel, boss: User) -> None:
    request_settings_update(actor=boss, values={"grouping_window_seconds": 0})
    slack_post(channel, ASK, at=at(0))
    follow_up = slack_post(channel, "Here is a screenshot", at=at(10))
    assert request_of(follow_up) is None


def test_a_channel_can_widen_its_grouping_window(channel: Channel, boss: User) -> None:
    channel_request_settings_update(
        actor=boss, channel=channel, values={"grouping_window_seconds": 600}
    )
    first = slack_post(channel, ASK, at=at(0))
    follow_up = slack_post(channel, "Here is a screenshot", at=at(500))
    assert request_of(follow_up) == request_of(first)


def test_a_team_reply_to_any_grouped_message_assigns_the_request(
    channel: Channel, agent: User
) -> None:
    slack_post(channel, ASK, at=at(0))
    middle = slack_post(channel, "It happens on every report.", at=at(30))
    slack_post(channel, "Since 9am.", at=at(60))
    slack_post(channel, "Looking now!", at=at(300), thread=middle, member=agent)
    request = Request.objects.get()
    assert request.assignee == agent
    assert request.first_responder == agent
    assert request.first_response_at == at(300)
    dm = OutboxItem.objects.get(action="slack.dm")
    assert dm.payload["user"] == "U0AGENT"
    assert dm.payload["request_id"] == request.pk
    actions = OutboxItem.objects.get(action="slack.thread_actions")
    assert actions.payload == {"request_id": request.pk, "user": "U0AGENT"}


def test_a_reply_in_the_channel_takes_the_last_open_unassigned_request(
    channel: Channel, agent: User, make_user: Callable[..., User]
) -> None:
    older = request_of(slack_post(channel, ASK, at=at(0)))
    newer = request_of(
        slack_post(
            channel,
            "How do I add a teammate?",
            at=at(600),
            customer="U0BO",
            email="bo@acme.example",
        )
    )
    slack_post(channel, "On it, one moment", at=at(700), member=agent)
    assert older is not None and newer is not None
    older.refresh_from_db()
    newer.refresh_from_db()
    assert newer.assignee == agent
    assert older.assignee is None
    # Already assigned: a second member's channel reply changes nothing.
    other = make_user("kim@rapport.example", name="Kim")
    slack_post(channel, "I can help too", at=at(800), member=other)
    newer.refresh_from_db()
    assert newer.assignee == agent


def test_first_responder_assignment_can_be_turned_off(
    channel: Channel, agent: User, boss: User
) -> None:
    channel_request_settings_update(
        actor=boss, channel=channel, values={"assign_first_responder": False}
    )
    root = slack_post(channel, ASK, at=at(0))
    slack_post(channel, "Looking", at=at(60), thread=root, member=agent)
    request = Request.objects.get()
    assert request.assignee is None
    assert request.first_response_at == at(60)


def test_a_channel_csm_gets_new_requests(channel: Channel, agent: User, boss: User) -> None:
    channel_set_csm(actor=boss, channel=channel, csm=agent)
    request = request_of(slack_post(channel, ASK))
    assert request is not None and request.assignee == agent
    assert OutboxItem.objects.filter(action="slack.dm", payload__user="U0AGENT").exists()


def test_csm_assignment_can_be_turned_off(channel: Channel, agent: User, boss: User) -> None:
    channel_set_csm(actor=boss, channel=channel, csm=agent)
    request_settings_update(actor=boss, values={"assign_csm": False})
    request = request_of(slack_post(channel, ASK))
    assert request is not None and request.assignee is None


def test_a_customer_reply_reopens_a_request_waiting_on_them(channel: Channel, agent: User) -> None:
    root = slack_post(channel, ASK, at=at(0))
    request = request_of(root)
    assert request is not None
    request_wait(request=request, actor=agent)
    slack_post(channel, "Here are the details you asked for", at=at(900), thread=root)
    request.refresh_from_db()
    assert request.status == RequestStatus.OPEN


def test_an_api_ticket_is_always_a_request(admin_api: object) -> None:
    from django.test import Client

    assert isinstance(admin_api, Client)
    answer = admin_api.post(
        "/api/v1/tickets",
        {"requester_email": "sam@globex.example", "subject": "Thanks", "body": "thanks!"},
        content_type="application/json",
    )
    assert answer.status_code in (200, 201, 202), answer.content
    triage_pending()
    request = Request.objects.get()
    assert request.origin == RequestOrigin.TICKET
    assert request.source == "api"


def test_an_email_is_judged_with_its_subject() -> None:
    message = email_post("See the attached log.", subject="Cannot log in with SSO, please help")
    request = request_of(message)
    assert request is not None
    assert request.title == "Cannot log in with SSO, please help"


def test_an_email_reply_joins_its_threads_request() -> None:
    root = email_post("Our invoices show the wrong VAT number. Can you fix it?", subject="VAT")
    reply = email_post("Any news?", subject="Re: VAT", thread_key=root.conversation.thread_key)
    assert request_of(reply) == request_of(root)


def test_messages_left_untriaged_by_a_dead_worker_are_recovered(channel: Channel) -> None:
    message = slack_post(channel, ASK, triage=False)
    assert PendingTriage.objects.filter(message=message).exists()
    PendingTriage.objects.update(queued_at=at(0))
    assert triage_recover() == 1  # tasks run inline in tests: the recovery triages
    assert request_of(message) is not None
    assert not PendingTriage.objects.exists()


def test_a_burst_of_tickets_is_triaged_in_a_few_queries_per_chunk(
    django_assert_max_num_queries: Callable[..., Any],
) -> None:
    messages = [ticket_message(f"Export {n} fails") for n in range(60)]
    # Reads once per batch (the first one also writes the default settings), then six
    # statements per chunk of 20: its pending rows, the requests, their root messages,
    # their activities, and the chunk's savepoint; on PostgreSQL, the job's turn is two
    # statements more (its advisory lock and unlock).
    with django_assert_max_num_queries(25 if connection.vendor == "sqlite" else 27):
        assert triage_pending() == 60
    requests = [request_of(message) for message in messages]
    assert all(request is not None for request in requests)
    assert len({request.pk for request in requests if request is not None}) == 60


def test_a_worker_that_dies_mid_batch_keeps_what_it_wrote_and_leaves_the_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    messages = [ticket_message(f"Export {n} fails") for n in range(60)]
    writes = 0
    create_many = triage.requests_create_many

    def dies_at_the_second_chunk(drafts: Any, **kwargs: Any) -> None:
        nonlocal writes
        writes += 1
        if writes == 2:
            raise RuntimeError("the worker was killed")
        create_many(drafts, **kwargs)

    monkeypatch.setattr(triage, "requests_create_many", dies_at_the_second_chunk)
    with pytest.raises(RuntimeError):
        triage_pending()
    assert Request.objects.count() == triage.TRIAGE_CHUNK
    assert PendingTriage.objects.count() == 60 - triage.TRIAGE_CHUNK
    monkeypatch.undo()
    assert triage_recover() == 0  # not a minute old yet; the next run picks them up
    assert triage_pending() == 60 - triage.TRIAGE_CHUNK
    assert all(request_of(message) is not None for message in messages)
    assert Request.objects.count() == 60


def _meanwhile(monkeypatch: pytest.MonkeyPatch, change: Callable[[], object]) -> None:
    """Make *change* happen once, after triage planned its batch and before it writes."""
    plan = triage.TriagePlan.__init__
    pending = [change]

    def plan_then_change(self: triage.TriagePlan, rows: Any) -> None:
        plan(self, rows)
        if pending:
            pending.pop()()

    monkeypatch.setattr(triage.TriagePlan, "__init__", plan_then_change)


def test_two_runs_triaging_the_same_messages_open_each_request_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    messages = [ticket_message(f"Export {n} fails") for n in range(30)]
    # Another worker triages the whole batch while this run holds its plan.
    _meanwhile(monkeypatch, triage_pending)
    triage_pending()
    assert Request.objects.count() == 30
    assert all(request_of(message) is not None for message in messages)
    assert not PendingTriage.objects.exists()


def test_a_request_closed_while_triage_plans_a_reply_stays_closed(
    channel: Channel, agent: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = slack_post(channel, ASK, at=at(0))
    request = request_of(root)
    assert request is not None
    request_wait(request=request, actor=agent)
    reply = slack_post(channel, "Here are the details", at=at(900), thread=root, triage=False)
    _meanwhile(
        monkeypatch,
        lambda: request_close(request=Request.objects.get(pk=request.pk), actor=agent),
    )
    triage_pending()
    request.refresh_from_db()
    assert request.status == RequestStatus.CLOSED
    assert request_of(reply) != request
    assert not PendingTriage.objects.exists()
