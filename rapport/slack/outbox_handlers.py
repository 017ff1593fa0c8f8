"""The Slack calls queued in the outbox: request cards, emoji, thread posts, DMs, surveys.

Registered when the app is ready (`SlackConfig.ready`). Each handler renders its message
from the request as it is when the call is made, so a card that waited out a rate limit
shows the latest state. Slack's temporary failures (HTTP 429 with Retry-After, 5xx,
`ratelimited`, network errors) become OutboxRetry; anything else Slack refuses
(`channel_not_found`, `not_in_channel`, `invalid_auth`...) cannot succeed by waiting and
becomes OutboxFailed.
"""

from typing import Any

from django.conf import settings
from django.db import transaction
from slack_sdk.errors import SlackApiError

from rapport.outbox.handlers import OutboxFailed, OutboxRetry, outbox_handler
from rapport.requests.config import request_settings_get
from rapport.requests.models import Request
from rapport.requests.notify import slack_thread_ref
from rapport.slack.blocks import (
    csat_survey_blocks,
    mrkdwn_escape,
    request_card_blocks,
    request_card_text,
    request_dm_blocks,
    request_title_text,
)
from rapport.slack.selectors import request_for_action
from rapport.slack.services import request_notification_store
from rapport.slack.web_api import slack_error_is_temporary, slack_retry_after, slack_web_client


def slack_call(method: str, **params: Any) -> dict[str, Any]:
    """Call a Web API *method* with the bot token; map failures to outbox outcomes."""
    if not settings.SLACK_BOT_TOKEN:
        raise OutboxFailed("Slack is not set up on this server: SLACK_BOT_TOKEN is empty.")
    client = slack_web_client()
    try:
        response = client.api_call(method, json=params)
    except SlackApiError as exc:
        code = exc.response.get("error") or f"HTTP {exc.response.status_code}"
        if slack_error_is_temporary(exc):
            after = slack_retry_after(exc)
            wait = f"; retry after {after:g} s" if after else ""
            raise OutboxRetry(
                f"Slack could not take {method} now ({code}){wait}.", after=after
            ) from exc
        raise OutboxFailed(f"Slack refused {method}: {code}.") from exc
    except OSError as exc:  # network errors and timeouts
        raise OutboxRetry(f"Slack could not be reached for {method}: {exc}") from exc
    return dict(response.data) if isinstance(response.data, dict) else {}


def _slack_error(error: OutboxFailed) -> str:
    cause = error.__cause__
    if isinstance(cause, SlackApiError):
        return str(cause.response.get("error") or "")
    return ""


def _request(request_id: Any) -> Request:
    request = request_for_action(request_id)
    if request is None:
        raise OutboxFailed(f"Request {request_id} no longer exists.")
    return request


def _ticketing() -> bool:
    return bool(request_settings_get().ticket_address)


@outbox_handler("slack.request_card")
def request_card_send(payload: dict[str, Any]) -> dict[str, Any]:
    """Post the request's card to the triage channel, or update the card posted before."""
    request = _request(payload["request_id"])
    blocks = request_card_blocks(request, ticketing=_ticketing())
    text = request_card_text(request)
    if request.notification_ts:
        try:
            slack_call(
                "chat.update",
                channel=request.notification_channel,
                ts=request.notification_ts,
                text=text,
                blocks=blocks,
            )
        except OutboxFailed as exc:
            # The card was deleted: post a new one below rather than lose the update.
            if _slack_error(exc) != "message_not_found":
                raise
        else:
            return {"channel": request.notification_channel, "ts": request.notification_ts}
    channel = payload.get("channel") or request.notification_channel
    if not channel:
        raise OutboxFailed("No triage channel is set for this request's card.")
    # Lock the request so two dispatchers cannot both post its first card.
    with transaction.atomic():
        locked = (
            Request.objects.select_for_update()
            .only("notification_channel", "notification_ts")
            .get(pk=request.pk)
        )
        if locked.notification_ts and locked.notification_ts != request.notification_ts:
            # Another dispatcher posted it meanwhile: bring that card up to date.
            slack_call(
                "chat.update",
                channel=locked.notification_channel,
                ts=locked.notification_ts,
                text=text,
                blocks=blocks,
            )
            return {"channel": locked.notification_channel, "ts": locked.notification_ts}
        answer = slack_call("chat.postMessage", channel=channel, text=text, blocks=blocks)
        request_notification_store(request=request, channel=answer["channel"], ts=answer["ts"])
    return {"channel": answer["channel"], "ts": answer["ts"]}


@outbox_handler("slack.reaction")
def reaction_add(payload: dict[str, Any]) -> dict[str, Any]:
    """Add an emoji to a customer's message; one that is already there is done."""
    try:
        slack_call(
            "reactions.add",
            channel=payload["channel"],
            timestamp=payload["timestamp"],
            name=payload["name"],
        )
    except OutboxFailed as exc:
        if _slack_error(exc) != "already_reacted":
            raise
        return {"already_reacted": True}
    return {"ok": True}


@outbox_handler("slack.thread_post")
def thread_post(payload: dict[str, Any]) -> dict[str, Any]:
    """Post a status update in the request's thread."""
    answer = slack_call(
        "chat.postMessage",
        channel=payload["channel"],
        thread_ts=payload["thread_ts"],
        text=mrkdwn_escape(payload["text"]),
    )
    return {"channel": answer.get("channel"), "ts": answer.get("ts")}


@outbox_handler("slack.dm")
def member_dm(payload: dict[str, Any]) -> dict[str, Any]:
    """DM a member about a request (assigned to them, or a nudge), with its actions."""
    opened = slack_call("conversations.open", users=payload["user"])
    channel = (opened.get("channel") or {}).get("id")
    if not channel:
        raise OutboxFailed("Slack did not open a DM with the member.")
    text = payload["text"]
    request = request_for_action(int(payload.get("request_id") or 0))
    blocks = request_dm_blocks(request, text, ticketing=_ticketing()) if request else None
    params: dict[str, Any] = {"channel": channel, "text": mrkdwn_escape(text)}
    if blocks:
        params["blocks"] = blocks
    answer = slack_call("chat.postMessage", **params)
    return {"channel": channel, "ts": answer.get("ts")}


@outbox_handler("slack.thread_actions")
def thread_actions_post(payload: dict[str, Any]) -> dict[str, Any]:
    """Show the member who answered in a request's thread its actions, to them alone."""
    request = _request(payload["request_id"])
    ref = slack_thread_ref(request)
    if ref is None:
        raise OutboxFailed(f"Request {request.pk} does not live in a Slack thread.")
    text = "You answered first, so this request is yours now."
    answer = slack_call(
        "chat.postEphemeral",
        channel=ref[0],
        thread_ts=ref[1],
        user=payload["user"],
        text=text,
        blocks=request_dm_blocks(request, text, ticketing=_ticketing()),
    )
    return {"message_ts": answer.get("message_ts")}


@outbox_handler("slack.csat_survey")
def csat_survey_post(payload: dict[str, Any]) -> dict[str, Any]:
    """Ask the customer for a rating in the request's thread, with buttons 1 to 5."""
    request = _request(payload["request_id"])
    ref = slack_thread_ref(request)
    if ref is None:
        raise OutboxFailed(f"Request {request.pk} does not live in a Slack thread.")
    answer = slack_call(
        "chat.postMessage",
        channel=ref[0],
        thread_ts=ref[1],
        text=f"How satisfied are you with the help on “{request_title_text(request)}”? Rate 1-5.",
        blocks=csat_survey_blocks(request),
    )
    return {"channel": answer.get("channel"), "ts": answer.get("ts")}
