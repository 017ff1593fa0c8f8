"""Slack on the Integrations page: its settings, its state and `auth.test`."""

from django.conf import settings

from rapport.inbox.models import Source
from rapport.integrations.slack.client import (
    SlackRefused,
    SlackUnavailable,
    slack_api_call,
    slack_web_client,
)
from rapport.integrations.status import (
    TEST_TIMEOUT_SECONDS,
    Activity,
    ConnectionTest,
    IntegrationStatus,
    actions_named,
    integration_status_build,
)

KEY = "slack"
TITLE = "Slack"


def slack_status(activity: Activity) -> IntegrationStatus:
    """Tell Slack's state: Events API or Socket Mode, and whether its tokens are set."""
    bot_token = bool(settings.SLACK_BOT_TOKEN)
    socket_mode = bool(settings.SLACK_APP_TOKEN)
    signing_secret = bool(settings.SLACK_SIGNING_SECRET)
    setup = [
        "Socket Mode (SLACK_APP_TOKEN set)"
        if socket_mode
        else "Events API at /integrations/slack/events",
        "Bot token set" if bot_token else "SLACK_BOT_TOKEN is not set",
    ]
    if not socket_mode:
        setup.append("Signing secret set" if signing_secret else "SLACK_SIGNING_SECRET is not set")
    return integration_status_build(
        activity,
        key=KEY,
        title=TITLE,
        configured=bot_token and (socket_mode or signing_secret),
        setup=setup,
        sources=[Source.SLACK],
        actions=actions_named("slack."),
        reply_sources=[Source.SLACK],
        testable=True,
    )


def slack_connection_test() -> ConnectionTest:
    """Call `auth.test` with the bot token: Slack names the workspace and the bot, or refuses."""
    if not settings.SLACK_BOT_TOKEN:
        return ConnectionTest(
            False, "SLACK_BOT_TOKEN is not set: Rapport cannot call Slack.", unset=True
        )
    client = slack_web_client(timeout=TEST_TIMEOUT_SECONDS)
    try:
        answer = slack_api_call("auth.test", client=client)
    except (SlackRefused, SlackUnavailable) as exc:
        return ConnectionTest(False, str(exc))
    team = answer.get("team") or answer.get("team_id") or "the workspace"
    bot = answer.get("user") or answer.get("user_id") or "the bot"
    return ConnectionTest(True, f"Connected to {team} as {bot}.")
