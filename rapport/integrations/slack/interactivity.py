"""Clicks and shortcuts: request actions, satisfaction ratings, and "Assign to".

Every listener answers Slack within its 3 seconds: the database work is quick and done
before the answer (the app processes before responding); the changes' notifications
(card updates, emoji, DMs) are queued in the outbox by the services, and only replies
to the person who acted (App Home refresh, ephemeral errors, modals) are sent at once.
"""

import logging
import re
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from rapport.core.errors import InvalidInput, ServiceError
from rapport.core.query_params import params_whole
from rapport.inbox.models import MessageDirection
from rapport.integrations.slack import blocks
from rapport.integrations.slack.app_home import app_home_publish
from rapport.integrations.slack.replies import NOT_A_MEMBER, slack_reply_call, slack_reply_error
from rapport.integrations.slack.selectors import (
    member_for_slack_user,
    message_for_assign,
    request_for_action,
    slack_message_find,
)
from rapport.requests.config import request_settings_get
from rapport.requests.models import Request
from rapport.requests.services import message_assign, request_action_apply, request_csat_record
from rapport.users.models import User

logger = logging.getLogger(__name__)

VIA = "slack"
NOT_STORED = (
    "Rapport has not stored this message yet, so it cannot become a request. Make sure the "
    "Rapport app is in this channel, then try again in a moment."
)

NOT_A_CUSTOMER_MESSAGE = (
    "This message was written by your team, not by a customer: only a customer's message "
    "can become a request."
)


def _user_id(body: dict[str, Any]) -> str:
    return str((body.get("user") or {}).get("id") or "")


def _from_home(body: dict[str, Any]) -> bool:
    return (body.get("view") or {}).get("type") == "home"


def _act(action: dict[str, Any], request: Request, member: User) -> None:
    name = str(action.get("action_id") or "")
    assignee = None
    if name == blocks.ACTION_ASSIGN:
        picked = action.get("selected_user") or ""
        assignee = member_for_slack_user(picked)
        if assignee is None:
            raise InvalidInput(
                f"<@{picked}> is not a Rapport member; requests can only go to members."
            )
    request_action_apply(
        request=request,
        action=name.removeprefix("request_"),
        actor=member,
        assignee=assignee,
        via=VIA,
    )


def _dm_refresh(client: WebClient, body: dict[str, Any], request: Request) -> None:
    """Redraw the buttons of the DM that was clicked, to match the request's new state.

    The triage card is redrawn by the outbox, as everyone in that channel sees it.
    """
    container = body.get("container") or {}
    channel, ts = container.get("channel_id"), container.get("message_ts")
    if container.get("type") != "message" or container.get("is_ephemeral") or not channel:
        return
    if (channel, ts) == (request.notification_channel, request.notification_ts):
        return
    if (body.get("channel") or {}).get("name") != "directmessage" and not str(channel).startswith(
        "D"
    ):
        return
    request = request_for_action(request.pk) or request
    text = blocks.mrkdwn_unescape((body.get("message") or {}).get("text") or "")
    text = text or blocks.request_card_text(request)
    slack_reply_call(
        client,
        "chat.update",
        channel=channel,
        ts=ts,
        text=text,
        blocks=blocks.request_dm_blocks(
            request, text, ticketing=bool(request_settings_get().ticket_address)
        ),
    )


def _request_action(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient
) -> None:
    """Take, assign, hold, close, reopen or ticket a request from a button or picker."""
    ack()
    member = member_for_slack_user(_user_id(body))
    if member is None:
        slack_reply_error(client, body, NOT_A_MEMBER)
        return
    request_id = blocks.request_id_from_block(str(action.get("block_id") or ""))
    request = request_for_action(request_id) if request_id else None
    if request is None:
        slack_reply_error(client, body, "This request no longer exists in Rapport.")
        return
    try:
        _act(action, request, member)
    except ServiceError as exc:
        slack_reply_error(client, body, exc.message)
        return
    if _from_home(body):
        app_home_publish(client, _user_id(body))
    else:
        _dm_refresh(client, body, request)


def _link_clicked(ack: Ack) -> None:
    """Acknowledge "Open in Rapport": Slack opens the link itself."""
    ack()


def _csat_rate(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
    """Store the customer's rating, then thank them in place of the buttons."""
    ack()
    if member_for_slack_user(_user_id(body)) is not None:
        slack_reply_error(client, body, "Only the customer can rate how their request went.")
        return
    request_id = blocks.request_id_from_block(
        str(action.get("block_id") or ""), blocks.CSAT_BLOCK_PREFIX
    )
    value = str(action.get("value") or "")
    request = request_for_action(request_id) if request_id else None
    if request is None or params_whole(value) not in blocks.CSAT_LABELS:
        slack_reply_error(client, body, "This survey is no longer open.")
        return
    score = int(value)
    try:
        request_csat_record(request=request, score=score, via=VIA)
    except ServiceError as exc:
        slack_reply_error(client, body, exc.message)
        return
    container = body.get("container") or {}
    if container.get("channel_id") and container.get("message_ts"):
        slack_reply_call(
            client,
            "chat.update",
            channel=container["channel_id"],
            ts=container["message_ts"],
            text=f"Thanks for rating! You gave {score} of 5.",
            blocks=blocks.csat_thanks_blocks(score),
        )


def _assign_to_shortcut(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
    """Open the "Assign to" modal for a message, or say why it cannot be assigned."""
    ack()
    trigger = body.get("trigger_id")
    member = member_for_slack_user(_user_id(body))
    message = None
    if member is not None:
        message = slack_message_find(
            team_id=str((body.get("team") or {}).get("id") or ""),
            channel_id=str((body.get("channel") or {}).get("id") or ""),
            ts=str(body.get("message_ts") or (body.get("message") or {}).get("ts") or ""),
        )
    if member is None:
        view = blocks.notice_modal("Assign to", NOT_A_MEMBER)
    elif message is None:
        view = blocks.notice_modal("Assign to", NOT_STORED)
    elif message.direction != MessageDirection.INBOUND:
        view = blocks.notice_modal("Assign to", NOT_A_CUSTOMER_MESSAGE)
    else:
        view = blocks.assign_message_modal(message.pk)
    slack_reply_call(client, "views.open", trigger_id=trigger, view=view)


def _assign_message_submit(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
    """Assign the message of the "Assign to" modal; show what is wrong in the modal."""

    def refuse(text: str) -> None:
        ack(response_action="errors", errors={blocks.BLOCK_ASSIGNEE: text})

    member = member_for_slack_user(_user_id(body))
    if member is None:
        refuse(NOT_A_MEMBER)
        return
    state = (view.get("state") or {}).get("values") or {}
    picked = (state.get(blocks.BLOCK_ASSIGNEE) or {}).get(blocks.ACTION_ASSIGNEE) or {}
    assignee = member_for_slack_user(str(picked.get("selected_user") or ""))
    if assignee is None:
        refuse("That person is not a Rapport member; requests can only go to members.")
        return
    metadata = str(view.get("private_metadata") or "")
    message_id = params_whole(metadata)
    message = message_for_assign(message_id) if message_id is not None else None
    if message is None:
        refuse(NOT_STORED)
        return
    try:
        message_assign(message=message, assignee=assignee, actor=member, via=VIA)
    except ServiceError as exc:
        refuse(exc.message)
        return
    ack()


def interactivity_listeners_register(app: App) -> None:
    app.action(re.compile(f"^({'|'.join(blocks.REQUEST_ACTIONS)})$"))(_request_action)
    app.action(blocks.ACTION_OPEN)(_link_clicked)
    app.action(re.compile(f"^{blocks.CSAT_ACTION_PREFIX}[1-5]$"))(_csat_rate)
    app.shortcut(blocks.SHORTCUT_ASSIGN_TO)(_assign_to_shortcut)
    app.view(blocks.VIEW_ASSIGN_MESSAGE)(_assign_message_submit)
