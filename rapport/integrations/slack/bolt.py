"""The Slack app: one Bolt app for the HTTP endpoints and for Socket Mode.

Its message listener does only what a webhook may do before answering: the request is
verified by Bolt (signature on the raw body, 5-minute window), the envelope is stored as
an InboundEvent unique on its event id, and processing is enqueued once that commits.
The request management listeners (buttons, App Home, `/rapport`, "Assign to") live in
`interactivity`, `app_home` and `commands`.
"""

import functools
import logging
from typing import Any

from django.conf import settings
from slack_bolt import Ack, App, BoltResponse
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.error import BoltUnhandledRequestError

from rapport.inbox.models import Source
from rapport.inbox.services import inbound_event_store
from rapport.integrations.slack.app_home import app_home_listeners_register
from rapport.integrations.slack.client import slack_web_client
from rapport.integrations.slack.commands import command_listeners_register
from rapport.integrations.slack.interactivity import interactivity_listeners_register
from rapport.ops.middleware import OUTAGE_MESSAGE, RETRY_AFTER_SECONDS
from rapport.ops.outage import database_unavailable

logger = logging.getLogger(__name__)


class _TokenNoticeFilter(logging.Filter):
    """Drop Bolt's start-up notices that SLACK_BOT_TOKEN from the environment goes unused.

    Bolt reads that variable by itself; Rapport hands the same token over through
    `_authorize`, so the notices would only send an operator chasing a non-problem.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not ("`token`" in message and ("unused" in message or "ignored" in message))


bolt_logger = logging.getLogger("rapport.integrations.slack.bolt")
bolt_logger.addFilter(_TokenNoticeFilter())


def slack_event_store(body: dict[str, Any]) -> BoltResponse | None:
    """Store one Events API envelope; a redelivery of the same event id changes nothing.

    Return an error answer when the envelope cannot be stored, None when it was.
    """
    event_id = body.get("event_id")
    if not isinstance(event_id, str) or not event_id:
        return BoltResponse(status=400, body={"error": "The Slack event has no event_id."})
    # The legacy verification token is a credential; the signature already did its job.
    payload = {k: v for k, v in body.items() if k != "token"}
    inbound_event_store(source=Source.SLACK, external_id=event_id, payload=payload)
    return None


def _message(body: dict[str, Any], ack: Ack) -> BoltResponse | None:
    """Store a message event of any subtype; the normalizer decides what it means."""
    answer = slack_event_store(body)
    if answer is None:
        ack()
    return answer


def _unsupported_or_error(error: Exception, body: dict[str, Any]) -> BoltResponse | None:
    """Answer 200 "unsupported" to what no listener handles, so Slack does not retry it.

    Any other error keeps Bolt's 500: the event was not stored, and Slack's retry of it
    is what recovers it.
    """
    if isinstance(error, BoltUnhandledRequestError):
        event = body.get("event") if isinstance(body.get("event"), dict) else None
        kind = (event or {}).get("type") or body.get("type") or "unknown"
        return BoltResponse(status=200, body={"ok": True, "unsupported": str(kind)})
    if database_unavailable(error):
        # Nothing was stored; Slack redelivers after the wait.
        logger.warning("Slack request not stored, database unavailable: %s", error)
        return BoltResponse(
            status=503,
            body={"error": OUTAGE_MESSAGE},
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    logger.error("Slack request failed", exc_info=error)
    return None


def _authorize(
    enterprise_id: str | None, team_id: str | None, user_id: str | None
) -> AuthorizeResult:
    # The workspace's bot token, known from the settings: no auth.test round trip before
    # an event is stored, so a Slack outage or a bad token never loses a delivery.
    return AuthorizeResult(
        enterprise_id=enterprise_id,
        team_id=team_id,
        user_id=user_id,
        bot_token=settings.SLACK_BOT_TOKEN or None,
    )


def slack_app() -> App:
    """Return the Bolt app for the current Slack settings, built on first use."""
    return _build(settings.SLACK_SIGNING_SECRET, settings.SLACK_BOT_TOKEN, settings.SLACK_API_URL)


@functools.cache
def _build(signing_secret: str, bot_token: str, api_url: str) -> App:
    # The arguments only key the cache: a test or a reload with other settings gets its
    # own app. Listeners run before the answer (process_before_response), so the answer
    # means the event is stored.
    app = App(
        name="rapport",
        logger=bolt_logger,
        signing_secret=signing_secret,
        authorize=_authorize,
        # Tokenless: each request's client gets the bot token from `_authorize`.
        client=slack_web_client(with_token=False),
        process_before_response=True,
        raise_error_for_unhandled_request=True,
        # Bot messages are ignored by the normalizer, whoever posted them.
        ignoring_self_events_enabled=False,
    )
    app.event("message")(_message)
    app_home_listeners_register(app)
    command_listeners_register(app)
    interactivity_listeners_register(app)
    app.error(_unsupported_or_error)
    return app
