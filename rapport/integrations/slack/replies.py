"""Answers to the Slack user who clicked or typed: ephemeral messages and notice modals.

These are replies in the user interface, made at once with the request's own client;
notifications to other people go through the outbox instead.
"""

import logging
from typing import Any

from slack_sdk import WebClient

from rapport.integrations.slack.blocks import notice_modal
from rapport.integrations.slack.client import SlackRefused, SlackUnavailable, slack_api_call

logger = logging.getLogger(__name__)

NOT_A_MEMBER = (
    "Your Slack account is not linked to a Rapport member, so Rapport cannot act for you. "
    "Ask a Rapport admin to set your Slack user id on your member profile."
)


def slack_reply_call(client: WebClient, method: str, **params: Any) -> bool:
    """Make a UI call; log instead of failing the interaction when Slack refuses it."""
    try:
        slack_api_call(method, client=client, **params)
    except (SlackUnavailable, SlackRefused) as exc:
        logger.warning("Slack %s failed: %s", method, exc)
        return False
    return True


def slack_reply_error(client: WebClient, body: dict[str, Any], text: str) -> None:
    """Tell the user who acted why nothing happened, where they acted.

    A click on a message gets an ephemeral message in that conversation; a click in the
    App Home or a modal, or a shortcut, gets a small modal (needs the trigger id).
    """
    user_id = (body.get("user") or {}).get("id") or ""
    container = body.get("container") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    if container.get("type") == "message" and channel:
        thread = (body.get("message") or {}).get("thread_ts")
        params: dict[str, Any] = {"channel": channel, "user": user_id, "text": text}
        if thread:
            params["thread_ts"] = thread
        slack_reply_call(client, "chat.postEphemeral", **params)
    elif body.get("trigger_id"):
        slack_reply_call(
            client, "views.open", trigger_id=body["trigger_id"], view=notice_modal("Rapport", text)
        )
    else:
        logger.info("Could not tell Slack user %s: %s", user_id, text)
