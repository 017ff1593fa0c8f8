"""A request's page and its actions (`views_detail.py`)."""

import datetime
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from rapport.inbox.models import Channel
from rapport.outbox.models import OutboxItem
from rapport.requests.models import RequestStatus
from rapport.requests.services import request_settings_update
from rapport.requests.tests.conftest import MakeRequest
from rapport.requests.tests.kit import page_text, slack_post
from rapport.users.models import User

pytestmark = pytest.mark.django_db


def test_detail_shows_the_thread_with_grouped_messages_and_the_timeline(
    member_client: Client, make_request: MakeRequest, channel: Channel, agent: User
) -> None:
    at = timezone.now() - datetime.timedelta(minutes=30)
    request = make_request("Our CSV export fails with a 500 error", channel=channel, at=at)
    first = request.message
    assert first is not None
    # A follow-up in the channel within the grouping window joins the request.
    slack_post(
        channel, "It happens for every report we try", at=at + datetime.timedelta(seconds=40)
    )
    slack_post(channel, "On it", at=at + datetime.timedelta(minutes=2), thread=first, member=agent)

    response = member_client.get(request.get_absolute_url())

    page = page_text(response)
    assert "Our CSV export fails" in page
    assert "It happens for every report we try" in page  # grouped from another thread
    assert '<span class="mark">grouped</span>' in page
    assert "On it" in page
    timeline = re.search(r'id="timeline".*?</section>', page, re.S)
    assert timeline
    assert "made the message a request" in timeline.group(0)
    assert "grouped a follow-up message" in timeline.group(0)
    assert "Alex Agent</strong> answered first in the thread" in timeline.group(0)
    assert "assigned the request to Alex Agent as the first responder" in timeline.group(0)


def test_create_ticket_shows_only_with_a_ticketing_address(
    member_client: Client, make_request: MakeRequest, boss: User
) -> None:
    request = make_request("Export fails")
    url = request.get_absolute_url()
    assert "Create ticket" not in page_text(member_client.get(url))
    # Posted anyway, the action says why not.
    member_client.post(reverse("requests:act", args=[request.pk]), {"action": "ticket"})
    assert "No ticketing tool is configured" in page_text(member_client.get(url))

    request_settings_update(actor=boss, values={"ticket_address": "help@tickets.example"})
    assert "Create ticket" in page_text(member_client.get(url))
    response = member_client.post(
        reverse("requests:act", args=[request.pk]), {"action": "ticket"}, follow=True
    )
    assert "Created a ticket." in page_text(response)
    assert "Ticket sent to help@tickets.example" in page_text(response)
    assert OutboxItem.objects.filter(action="email.send").exists()


@pytest.mark.parametrize(
    ("action", "status"),
    [("hold", "pending"), ("wait", "waiting"), ("close", "closed")],
)
def test_state_actions_from_the_request_page(
    member_client: Client, make_request: MakeRequest, action: str, status: str
) -> None:
    request = make_request("Export fails")
    response = member_client.post(
        reverse("requests:act", args=[request.pk]), {"action": action}, follow=True
    )
    assert response.redirect_chain == [(request.get_absolute_url(), 302)]
    request.refresh_from_db()
    assert request.status == status
    assert f'id="request-status">{request.get_status_display()}</span>' in page_text(response)


def test_take_assign_and_reopen_from_the_request_page(
    member_client: Client, make_request: MakeRequest, member_user: User, agent: User
) -> None:
    request = make_request("Export fails", status=RequestStatus.CLOSED)
    act = reverse("requests:act", args=[request.pk])

    response = member_client.post(act, {"action": "reopen"}, follow=True)
    assert "Reopened the request." in page_text(response)
    response = member_client.post(act, {"action": "take"}, follow=True)
    assert "You are looking into this request." in page_text(response)
    request.refresh_from_db()
    assert request.assignee == member_user and request.status == RequestStatus.OPEN

    response = member_client.post(act, {"action": "assign", "assignee": str(agent.pk)}, follow=True)
    assert "Assigned the request to Alex Agent." in page_text(response)
    assert '<dd id="request-assignee">Alex Agent</dd>' in page_text(response)
    response = member_client.post(act, {"action": "assign", "assignee": ""}, follow=True)
    assert "The request is unassigned." in page_text(response)
    request.refresh_from_db()
    assert request.assignee is None


def test_request_page_errors_are_shown_clearly(
    member_client: Client, make_request: MakeRequest, agent: User
) -> None:
    request = make_request("Export fails")
    act = reverse("requests:act", args=[request.pk])
    agent.is_active = False
    agent.save()
    response = member_client.post(act, {"action": "assign", "assignee": str(agent.pk)}, follow=True)
    assert f"No active member with id {agent.pk}." in page_text(response)
    response = member_client.post(act, {"action": "explode"}, follow=True)
    assert "action must be one of" in page_text(response)
    assert member_client.get(reverse("requests:detail", args=[99999])).status_code == 404


def test_request_pages_need_a_login(client: Client, make_request: MakeRequest) -> None:
    request = make_request("Export fails")
    for url in (
        reverse("requests:board"),
        reverse("requests:mine"),
        request.get_absolute_url(),
        reverse("requests:settings"),
    ):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/")
