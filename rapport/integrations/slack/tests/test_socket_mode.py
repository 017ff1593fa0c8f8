"""Socket Mode: the same Bolt app and storage, reached through the Socket Mode handler."""

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from rapport.inbox.models import InboundEvent, Message
from rapport.integrations.slack.bolt import slack_app
from rapport.integrations.slack.tests.conftest import FakeSlackApi, payload

pytestmark = pytest.mark.django_db


class RecordingSocket:
    """Stands in for the WebSocket: keeps the acknowledgements the handler sends."""

    def __init__(self, logger: Any) -> None:
        self.logger = logger
        self.sent: list[SocketModeResponse] = []

    def send_socket_mode_response(self, response: SocketModeResponse) -> None:
        self.sent.append(response)


@pytest.fixture
def handler(slack: FakeSlackApi, settings: Any) -> Iterator[SocketModeHandler]:
    # Socket Mode needs no signing secret: the connection itself is authenticated.
    settings.SLACK_SIGNING_SECRET = ""
    handler = SocketModeHandler(slack_app(), app_token="xapp-1-A0RAPPORT1-test")
    try:
        yield handler
    finally:
        handler.close()


def envelope(name: str, envelope_id: str, retry_attempt: int = 0) -> SocketModeRequest:
    return SocketModeRequest(
        type="events_api",
        envelope_id=envelope_id,
        payload=payload(name),
        accepts_response_payload=False,
        retry_attempt=retry_attempt,
        retry_reason="timeout" if retry_attempt else "",
    )


def test_a_socket_mode_message_is_stored_once_and_acknowledged(
    handler: SocketModeHandler, django_capture_on_commit_callbacks: Any
) -> None:
    socket = RecordingSocket(handler.app.logger)
    with django_capture_on_commit_callbacks(execute=True):
        handler.handle(socket, envelope("message", "env-1"))  # type: ignore[arg-type]
    with django_capture_on_commit_callbacks(execute=True):
        handler.handle(socket, envelope("message", "env-2", retry_attempt=1))  # type: ignore[arg-type]
    assert [r.envelope_id for r in socket.sent] == ["env-1", "env-2"]
    event = InboundEvent.objects.get()
    assert (event.external_id, event.status) == ("Ev0A1MSG0001", "done")
    assert Message.objects.count() == 1


def test_a_socket_mode_unsupported_event_is_acknowledged_as_unsupported(
    handler: SocketModeHandler,
) -> None:
    socket = RecordingSocket(handler.app.logger)
    handler.handle(socket, envelope("reaction_added", "env-3"))  # type: ignore[arg-type]
    [ack] = socket.sent
    assert ack.envelope_id == "env-3"
    assert ack.payload == {"ok": True, "unsupported": "reaction_added"}
    assert not InboundEvent.objects.exists()


def test_the_command_explains_a_missing_app_token(settings: Any) -> None:
    settings.SLACK_APP_TOKEN = ""
    with pytest.raises(CommandError, match="SLACK_APP_TOKEN is not set"):
        call_command("slack_socket_mode")


def test_the_command_refuses_a_bot_token_as_app_token(settings: Any) -> None:
    settings.SLACK_APP_TOKEN = "xoxb-not-an-app-token"
    with pytest.raises(CommandError, match="app-level token"):
        call_command("slack_socket_mode")
