"""API tickets and the outbound webhook on the Integrations page, and a signed ping."""

from django.utils import timezone

from rapport.inbox.models import Source
from rapport.integrations.api.services import outbound_webhook_get
from rapport.integrations.api.webhooks import WebhookRefused, WebhookUnavailable, webhook_post
from rapport.integrations.status import (
    TEST_TIMEOUT_SECONDS,
    Activity,
    ConnectionTest,
    IntegrationStatus,
    integration_status_build,
)

KEY = "api"
TITLE = "API tickets and outbound webhook"


def api_status(activity: Activity) -> IntegrationStatus:
    """Tell the API channel's state: tickets always come in; replies go to the webhook."""
    webhook = outbound_webhook_get()
    return integration_status_build(
        activity,
        key=KEY,
        title=TITLE,
        configured=True,
        setup=[
            "Tickets at POST /api/v1/tickets",
            f"Replies posted to {webhook.url}"
            if webhook.url
            else "No webhook URL: replies are only read through the API",
        ],
        sources=[Source.API],
        reply_sources=[Source.API],
        testable=True,
    )


def webhook_connection_test() -> ConnectionTest:
    """POST a signed `ping` event to the webhook; a 2xx answer passes."""
    webhook = outbound_webhook_get()
    if not webhook.url:
        return ConnectionTest(False, "No webhook URL is set: there is nothing to test.", unset=True)
    event = {"type": "ping", "sent_at": timezone.now().isoformat()}
    try:
        status = webhook_post(webhook.url, webhook.secret, event, timeout=TEST_TIMEOUT_SECONDS)
    except (WebhookRefused, WebhookUnavailable) as exc:
        return ConnectionTest(False, str(exc))
    return ConnectionTest(True, f"{webhook.url} answered the signed ping with HTTP {status}.")
