"""The Slack calls queued in the outbox: request cards, emoji, thread posts, DMs, surveys.

Registered in `rapport.integrations.registry`. Each handler renders its message
from the request as it is when the call is made, so a card that waited out a rate limit
shows the latest state. Slack's temporary failures (HTTP 429 with Retry-After, 5xx,
`ratelimited`, network errors) are SlackUnavailable, which the outbox retries; anything
else Slack refuses (`channel_not_found`, `not_in_channel`, `invalid_auth`...) is
SlackRefused, which cannot succeed by waiting (`client` maps them, once).
"""

from typing import Any

from rapport.integrations.slack.blocks import (
    csat_survey_blocks,
    mrkdwn_escape,
    request_card_blocks,
    request_card_text,
    request_dm_blocks,
    request_title_text,
)
from rapport.integrations.slack.client import SlackRefused, slack_api_call
from rapport.integrations.slack.ids import SlackMessageRef
from rapport.integrations.slack.notices import slack_thread_ref
from rapport.integrations.slack.selectors import request_for_action
from rapport.integrations.slack.services import (
    request_card_claim,
    request_card_release,
    request_notification_store,
)
from rapport.outbox.handlers import OutboxFailed, OutboxRetry, outbox_handler
from rapport.requests.config import request_settings_get
from rapport.requests.models import Request


def _request(request_id: Any) -> Request:
    request = request_for_action(request_id)
    if request is None:
        raise OutboxFailed(f"Request {request_id} no longer exists.")
    return request


def _request_in_thread(request_id: Any) -> tuple[Request, SlackMessageRef]:
    request = _request(request_id)
    thread = slack_thread_ref(request)
    if thread is None:
        raise OutboxFailed(f"Request {request.pk} does not live in a Slack thread.")
    return request, thread


def _ticketing() -> bool:
    return bool(request_settings_get().ticket_address)


@outbox_handler("slack.request_card")
def request_card_send(payload: dict[str, Any]) -> dict[str, Any]:
    """Post the request's card to the triage channel, or update the card posted before."""
    request = _request(payload["request_id"])
    blocks = request_card_blocks(request, ticketing=_ticketing())
    text = request_card_text(request)
    if request.notification_ts and request.notification_channel:
        try:
            slack_api_call(
                "chat.update",
                channel=request.notification_channel,
                ts=request.notification_ts,
                text=text,
                blocks=blocks,
            )
        except SlackRefused as exc:
            # The card was deleted: post a new one below rather than lose the update.
            if exc.code != "message_not_found":
                raise
            request_card_release(request=request)
        else:
            return {"channel": request.notification_channel, "ts": request.notification_ts}
    channel = payload.get("channel") or request.notification_channel
    if not channel:
        raise OutboxFailed("No triage channel is set for this request's card.")
    # Claim the first post in a short write of its own (no lock held over the call), so
    # two dispatchers do not both post a card: the loser waits and then updates it.
    if not request_card_claim(request=request):
        raise OutboxRetry("Another dispatcher is posting this request's card.", after=5)
    try:
        answer = slack_api_call("chat.postMessage", channel=channel, text=text, blocks=blocks)
    except Exception:
        request_card_release(request=request)
        raise
    request_notification_store(request=request, channel=answer["channel"], ts=answer["ts"])
    return {"channel": answer["channel"], "ts": answer["ts"]}


@outbox_handler("slack.reaction")
def reaction_add(payload: dict[str, Any]) -> dict[str, Any]:
    """Add an emoji to a customer's message; one that is already there is done."""
    try:
        slack_api_call(
            "reactions.add",
            channel=payload["channel"],
            timestamp=payload["timestamp"],
            name=payload["name"],
        )
    except SlackRefused as exc:
        if exc.code != "already_reacted":
            raise
        return {"already_reacted": True}
    return {"ok": True}


@outbox_handler("slack.thread_post")
def thread_post(payload: dict[str, Any]) -> dict[str, Any]:
    """Post a status update in the request's thread."""
    answer = slack_api_call(
        "chat.postMessage",
        channel=payload["channel"],
        thread_ts=payload["thread_ts"],
        text=mrkdwn_escape(payload["text"]),
    )
    return {"channel": answer.get("channel"), "ts": answer.get("ts")}


@outbox_handler("slack.dm")
def member_dm(payload: dict[str, Any]) -> dict[str, Any]:
    """DM a member about a request (assigned to them, or a nudge), with its actions."""
    opened = slack_api_call("conversations.open", users=payload["user"])
    channel = (opened.get("channel") or {}).get("id")
    if not channel:
        raise OutboxFailed("Slack did not open a DM with the member.")
    text = payload["text"]
    request = request_for_action(int(payload.get("request_id") or 0))
    blocks = request_dm_blocks(request, text, ticketing=_ticketing()) if request else None
    params: dict[str, Any] = {"channel": channel, "text": mrkdwn_escape(text)}
    if blocks:
        params["blocks"] = blocks
    answer = slack_api_call("chat.postMessage", **params)
    return {"channel": channel, "ts": answer.get("ts")}


@outbox_handler("slack.thread_actions")
def thread_actions_post(payload: dict[str, Any]) -> dict[str, Any]:
    """Show the member who answered in a request's thread its actions, to them alone."""
    request, thread = _request_in_thread(payload["request_id"])
    text = "You answered first, so this request is yours now."
    answer = slack_api_call(
        "chat.postEphemeral",
        channel=thread.channel_id,
        thread_ts=thread.ts,
        user=payload["user"],
        text=text,
        blocks=request_dm_blocks(request, text, ticketing=_ticketing()),
    )
    return {"message_ts": answer.get("message_ts")}


@outbox_handler("slack.csat_survey")
def csat_survey_post(payload: dict[str, Any]) -> dict[str, Any]:
    """Ask the customer for a rating in the request's thread, with buttons 1 to 5."""
    request, thread = _request_in_thread(payload["request_id"])
    answer = slack_api_call(
        "chat.postMessage",
        channel=thread.channel_id,
        thread_ts=thread.ts,
        text=f"How satisfied are you with the help on “{request_title_text(request)}”? Rate 1-5.",
        blocks=csat_survey_blocks(request),
    )
    return {"channel": answer.get("channel"), "ts": answer.get("ts")}
