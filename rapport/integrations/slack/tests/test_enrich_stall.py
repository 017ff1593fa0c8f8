"""A slow Slack never holds the database: enrichment runs outside any transaction.

A worker takes in a Slack message whose author and channel Rapport must ask Slack about,
while Slack's Web API stalls five seconds on every call. Meanwhile a customer files a
ticket through the API; it must be answered at once, not after the worker's calls.
"""

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.db import connections
from django.test import Client

from rapport.inbox.ingest import inbound_events_process
from rapport.inbox.models import Conversation, InboundEvent, InboundEventStatus, Source
from rapport.inbox.services import inbound_event_store
from rapport.inbox.tests.test_concurrency import shared_database  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db(transaction=True)
STALL_SECONDS = 5.0


class _StallingSlack(BaseHTTPRequestHandler):
    """Answer every Web API call after STALL_SECONDS, as an overloaded Slack would."""

    calls: list[str]
    first_call: threading.Event

    def do_POST(self) -> None:
        method = self.path.rsplit("/", 1)[-1]
        self.calls.append(method)
        self.first_call.set()
        time.sleep(STALL_SECONDS)
        if method == "users.info":
            answer: dict[str, Any] = {
                "ok": True,
                "user": {
                    "id": "U0SLOW",
                    "real_name": "Sam Slow",
                    "profile": {"email": "sam@slow.example"},
                },
            }
        elif method == "conversations.info":
            answer = {"ok": True, "channel": {"id": "C0SLOW", "name": "slow-support"}}
        else:
            answer = {"ok": True}
        body = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def stalling_slack(settings: Any) -> Iterator[type[_StallingSlack]]:
    handler = type("Handler", (_StallingSlack,), {"calls": [], "first_call": threading.Event()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.SLACK_API_URL = f"http://127.0.0.1:{server.server_port}/api/"
    settings.SLACK_BOT_TOKEN = "xoxb-test"
    # Store without processing: the thread below is the worker.
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }
    try:
        yield handler
    finally:
        server.shutdown()
        server.server_close()


def test_a_ticket_is_answered_at_once_while_slack_stalls_the_worker(
    shared_database: Any,  # noqa: F811 - the fixture imported above
    stalling_slack: type[_StallingSlack],
    admin_api: Client,
) -> None:
    envelope = {
        "type": "event_callback",
        "event_id": "Ev0SLOW",
        "team_id": "T0SLOW",
        "event": {
            "type": "message",
            "channel": "C0SLOW",
            "channel_type": "channel",
            "user": "U0SLOW",
            "text": "Our exports time out again",
            "ts": "1767225600.000100",
        },
    }
    event, _ = inbound_event_store(source=Source.SLACK, external_id="Ev0SLOW", payload=envelope)

    def work() -> None:
        try:
            inbound_events_process([event.pk])
        finally:
            connections.close_all()

    worker = threading.Thread(target=work)
    worker.start()
    assert stalling_slack.first_call.wait(5), "the worker never asked Slack"
    assert InboundEvent.objects.get(pk=event.pk).status == InboundEventStatus.PENDING

    started = time.monotonic()
    answer = admin_api.post(
        "/api/v1/tickets",
        {"requester_email": "jo@acme.example", "subject": "Invoices", "body": "Where is it?"},
        content_type="application/json",
    )
    elapsed = time.monotonic() - started
    worker.join(timeout=4 * STALL_SECONDS)

    assert answer.status_code == 201, answer.content
    assert elapsed < 1.0, f"the ticket waited {elapsed:.1f} s for the worker's Slack calls"
    assert not worker.is_alive()
    assert stalling_slack.calls == ["users.info", "conversations.info"]
    assert InboundEvent.objects.get(pk=event.pk).status == InboundEventStatus.DONE
    slack_conversation = Conversation.objects.get(source=Source.SLACK)
    assert slack_conversation.messages.get().author_name == "Sam Slow"
    assert slack_conversation.channel is not None
    assert slack_conversation.channel.name == "slow-support"
