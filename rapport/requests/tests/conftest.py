"""Fixtures shared by the request tests: an account, a channel, members and requests.

Requests are built through the real path: a message is stored by the ingest code, then
triage (an API ticket is always a request) or `message_assign` makes it a request, and
the services move it to the state a test needs.
"""

import datetime
import itertools
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from rapport.accounts.models import Account
from rapport.accounts.tests.factories import make_account, make_channel
from rapport.inbox.adapters import IncomingMessage
from rapport.inbox.batch import message_ingest
from rapport.inbox.models import Channel, Message, Source
from rapport.mapping.engine import MappingContext
from rapport.requests.models import Request, RequestStatus
from rapport.requests.services import message_assign, request_assign, request_status_set
from rapport.requests.tests.kit import request_of, slack_post
from rapport.requests.triage import triage_pending
from rapport.users.models import Role, User

_tickets = itertools.count(1)
MakeRequest = Callable[..., Request]


@pytest.fixture
def acme(db: None) -> Account:
    return make_account("Acme", domain="acme.example")


@pytest.fixture
def globex(db: None) -> Account:
    return make_account("Globex", domain="globex.example")


@pytest.fixture
def channel(acme: Account) -> Channel:
    return make_channel("acme-support", accounts=[acme])


@pytest.fixture
def agent(make_user: Callable[..., User]) -> User:
    user = make_user("alex@rapport.example", name="Alex Agent")
    user.slack_user_id = "U0AGENT"
    user.save()
    return user


@pytest.fixture
def boss(make_user: Callable[..., User]) -> User:
    return make_user("ada@rapport.example", role=Role.ADMIN, name="Ada Admin")


def ticket_message(
    title: str,
    *,
    account: Account | None = None,
    at: datetime.datetime | None = None,
    email: str = "jane@acme.example",
    name: str = "Jane Customer",
) -> Message:
    """Store an API ticket through the ingest path (not triaged yet); return its message."""
    n = next(_tickets)
    incoming = IncomingMessage(
        source=Source.API,
        external_id=f"board-ticket-{n}",
        thread_key=f"board-ticket-{n}",
        text=f"{title}\n\nMore details about it.",
        subject=title,
        sent_at=at or timezone.now(),
        author_email=email,
        author_name=name,
        account_id=account.pk if account else None,
    )
    message_ingest(incoming, MappingContext.load())
    return Message.objects.get(source=Source.API, external_id=incoming.external_id)


@pytest.fixture
def make_request(db: None) -> MakeRequest:
    """Create a request: make_request("Title", status="waiting", assignee=user, ...).

    An API ticket by default (triage always makes it a request); with `channel`, a Slack
    message that a member assigns (`message_assign`), unassigned again when asked.
    """

    def make(
        title: str = "Export fails",
        *,
        status: str = RequestStatus.OPEN,
        assignee: User | None = None,
        account: Account | None = None,
        channel: Channel | None = None,
        at: datetime.datetime | None = None,
        **extra: Any,
    ) -> Request:
        if channel is not None:
            message = slack_post(channel, title, at=at, triage=False, **extra)
            helper = assignee or User.objects.filter(is_active=True).order_by("pk").first()
            assert helper is not None, "Assigning a Slack message needs a member."
            request = message_assign(message=message, assignee=helper, actor=None)
            if assignee is None:
                request = request_assign(request=request, assignee=None, actor=None)
        else:
            message = ticket_message(title, account=account, at=at, **extra)
            triage_pending()
            found = request_of(message)
            assert found is not None, "An API ticket is always a request."
            request = found
            if assignee is not None:
                request = request_assign(request=request, assignee=assignee, actor=None)
        if status != RequestStatus.OPEN:
            request = request_status_set(request=request, status=status, actor=None)
        return request

    return make
