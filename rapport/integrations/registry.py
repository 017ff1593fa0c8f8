"""Every integration Rapport runs, registered here and nowhere else.

- Conversation channels: their adapters (enrich, normalize, deliver) for the ingest
  path and for replies; a channel without `deliver` cannot be registered.
- Intake-only sources (product events, imports, CRM syncs) register with
  `intake_register` and have no `deliver`.
- Outbox handlers: the outside calls each integration makes after commit.
- Notice subscribers: how each integration tells people of request changes.
- Status providers: how each integration tells the Integrations page its state, and how
  it tests its connection (`integration_status_register`). A later connector (a CRM,
  Notion, an event source) joins the page by registering one here.
"""

from collections.abc import Callable
from dataclasses import dataclass

from rapport.core.errors import NotFound
from rapport.inbox.adapters import channel_register
from rapport.integrations.status import Activity, ConnectionTest, IntegrationStatus


@dataclass(frozen=True)
class StatusProvider:
    """One integration on the Integrations page: its status function and connection test."""

    key: str
    title: str
    status: Callable[[Activity], IntegrationStatus]
    test: Callable[[], ConnectionTest] | None
    order: int


_PROVIDERS: dict[str, StatusProvider] = {}


def integration_status_register(
    key: str,
    *,
    title: str,
    status: Callable[[Activity], IntegrationStatus],
    test: Callable[[], ConnectionTest] | None = None,
    order: int = 100,
) -> None:
    """Show integration *key* on the Integrations page; registering it again replaces it.

    *status* tells its state from the page's `Activity`; *test*, when given, makes one
    cheap outside call (no message sent) with a short timeout and never raises.
    """
    _PROVIDERS[key] = StatusProvider(key, title, status, test, order)


def integration_providers() -> list[StatusProvider]:
    """Return the registered integrations in page order."""
    return sorted(_PROVIDERS.values(), key=lambda provider: (provider.order, provider.title))


def integration_provider(key: str) -> StatusProvider:
    """Return the integration registered as *key*, or raise NotFound."""
    provider = _PROVIDERS.get(key)
    if provider is None:
        raise NotFound(f"No integration is called {key!r}.")
    return provider


def integrations_register() -> None:
    """Register every adapter, outbox handler, notice subscriber and status provider.

    Safe to call twice.
    """
    from rapport.inbox import delivery  # noqa: F401 - the "message.deliver" outbox handler
    from rapport.integrations.api import status as api_status
    from rapport.integrations.api.adapter import ApiChannel
    from rapport.integrations.email import notices as email_notices
    from rapport.integrations.email import sending  # noqa: F401 - the "email.send" handler
    from rapport.integrations.email import status as email_status
    from rapport.integrations.email.adapter import EmailChannel
    from rapport.integrations.slack import notices as slack_notices
    from rapport.integrations.slack import outbox_handlers  # noqa: F401 - the slack.* handlers
    from rapport.integrations.slack import status as slack_status
    from rapport.integrations.slack.adapter import SlackChannel
    from rapport.integrations.webchat import status as webchat_status
    from rapport.integrations.webchat.adapter import WebChatChannel
    from rapport.requests.notices import notice_subscribe

    channel_register(SlackChannel())
    channel_register(EmailChannel())
    channel_register(WebChatChannel())
    channel_register(ApiChannel())

    # Slack first: it reaches a member by DM when it can, and email covers the rest.
    notice_subscribe(slack_notices.request_notice_to_slack)
    notice_subscribe(email_notices.request_notice_to_email)

    integration_status_register(
        slack_status.KEY,
        title=slack_status.TITLE,
        status=slack_status.slack_status,
        test=slack_status.slack_connection_test,
        order=10,
    )
    integration_status_register(
        email_status.KEY,
        title=email_status.TITLE,
        status=email_status.email_status,
        test=email_status.email_connection_test,
        order=20,
    )
    integration_status_register(
        webchat_status.KEY,
        title=webchat_status.TITLE,
        status=webchat_status.webchat_status,
        order=30,
    )
    integration_status_register(
        api_status.KEY,
        title=api_status.TITLE,
        status=api_status.api_status,
        test=api_status.webhook_connection_test,
        order=40,
    )
