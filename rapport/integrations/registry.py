"""Every integration Rapport runs, registered here and nowhere else.

- Conversation channels: their adapters (enrich, normalize, deliver) for the ingest
  path and for replies; a channel without `deliver` cannot be registered.
- Intake-only sources (product events, imports, CRM syncs) register with
  `intake_register` and have no `deliver`.
- Outbox handlers: the outside calls each integration makes after commit.
- Notice subscribers: how each integration tells people of request changes.
"""

from rapport.inbox.adapters import channel_register


def integrations_register() -> None:
    """Register every adapter, outbox handler and notice subscriber; safe to call twice."""
    from rapport.inbox import delivery  # noqa: F401 - the "message.deliver" outbox handler
    from rapport.integrations.api.adapter import ApiChannel
    from rapport.integrations.email import notices as email_notices
    from rapport.integrations.email import sending  # noqa: F401 - the "email.send" handler
    from rapport.integrations.email.adapter import EmailChannel
    from rapport.integrations.slack import notices as slack_notices
    from rapport.integrations.slack import outbox_handlers  # noqa: F401 - the slack.* handlers
    from rapport.integrations.slack.adapter import SlackChannel
    from rapport.integrations.webchat.adapter import WebChatChannel
    from rapport.requests.notices import notice_subscribe

    channel_register(SlackChannel())
    channel_register(EmailChannel())
    channel_register(WebChatChannel())
    channel_register(ApiChannel())

    # Slack first: it reaches a member by DM when it can, and email covers the rest.
    notice_subscribe(slack_notices.request_notice_to_slack)
    notice_subscribe(email_notices.request_notice_to_email)
