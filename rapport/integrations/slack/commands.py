"""The `/rapport` slash command and the request settings modals it opens.

`/rapport config` (or `global config`) edits the workspace's request settings,
`/rapport channel config` the CSM and the overrides of the channel it is typed in, and
`/rapport help` says so. Only admins may change settings; the services enforce it too.
"""

import logging
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from rapport.core.errors import ServiceError
from rapport.core.query_params import params_whole
from rapport.inbox.models import Channel
from rapport.inbox.services import channel_set_csm
from rapport.integrations.slack import blocks
from rapport.integrations.slack.replies import NOT_A_MEMBER, slack_reply_call
from rapport.integrations.slack.selectors import member_for_slack_user
from rapport.integrations.slack.services import slack_channel_register
from rapport.requests.config import request_config_for, request_settings_get
from rapport.requests.models import ChannelRequestSettings
from rapport.requests.services import channel_request_settings_update, request_settings_update

logger = logging.getLogger(__name__)

COMMAND = "/rapport"
HELP = (
    "*Rapport* keeps track of customer requests.\n"
    "• `/rapport config` (or `/rapport global config`): the workspace's request settings "
    "(admins).\n"
    "• `/rapport channel config`: this channel's CSM and request settings (admins).\n"
    "• *Assign to* in a message's ⋮ menu: make a customer message a request and assign it.\n"
    "• The app's *Home* tab lists your requests and the incoming ones."
)
GLOBAL = {"config", "global config", "settings", "global settings"}
CHANNEL = {"channel config", "channel settings"}
ONLY_ADMINS = "Only Rapport admins can change the request settings."
CSM_NOT_A_MEMBER = (
    "This Slack user is not an active Rapport member. A member's Slack user id is set on "
    "their member profile in Rapport; set it first, then pick them again."
)
# A settings refusal without a field of its own shows on the first input.
FIRST_FIELD = blocks.MODAL_SPECS[0].name


def _ephemeral(ack: Ack, text: str) -> None:
    ack(text=text, response_type="ephemeral")


def _channel_for_command(command: dict[str, Any], client: WebClient) -> Channel | None:
    channel_id = str(command.get("channel_id") or "")
    if not channel_id.startswith(("C", "G")):
        return None  # a DM or group DM is no customer channel
    # Registering returns the channel already known; it asks Slack only for a new one.
    return slack_channel_register(
        team_id=str(command.get("team_id") or ""),
        channel_id=channel_id,
        is_private=False,
    )


def _rapport_command(ack: Ack, command: dict[str, Any], client: WebClient) -> None:
    """Answer `/rapport ...`: help as an ephemeral answer, settings as a modal."""
    words = " ".join(str(command.get("text") or "").lower().split())
    words = words.removesuffix(" request management").strip()
    if words in ("", "help"):
        _ephemeral(ack, HELP)
        return
    if words not in GLOBAL | CHANNEL:
        _ephemeral(ack, f"Rapport does not know `/rapport {words}`.\n\n{HELP}")
        return
    member = member_for_slack_user(str(command.get("user_id") or ""))
    if member is None:
        _ephemeral(ack, NOT_A_MEMBER)
        return
    if not member.is_admin:
        _ephemeral(ack, ONLY_ADMINS)
        return
    if words in GLOBAL:
        view = blocks.global_config_modal(request_settings_get())
    else:
        channel = _channel_for_command(command, client)
        if channel is None:
            _ephemeral(ack, "Type `/rapport channel config` in the customer channel to configure.")
            return
        overrides = ChannelRequestSettings.objects.filter(channel=channel).first()
        csm = channel.csm
        view = blocks.channel_config_modal(
            channel.pk,
            channel.name,
            overrides,
            request_config_for(None),
            csm_slack_user_id=csm.slack_user_id if csm is not None else "",
            csm_name=csm.display_name if csm is not None else "",
        )
    ack()
    slack_reply_call(client, "views.open", trigger_id=command.get("trigger_id"), view=view)


def _settings_submit(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], *, channel: bool
) -> None:
    state = (view.get("state") or {}).get("values") or {}
    values, errors = blocks.settings_from_state(state, channel=channel)
    csm_changed, csm_slack_user = blocks.channel_csm_answer(view) if channel else (False, "")
    csm = member_for_slack_user(csm_slack_user) if csm_slack_user else None
    if csm_changed and csm_slack_user and csm is None:
        errors[blocks.BLOCK_CSM] = CSM_NOT_A_MEMBER
    member = member_for_slack_user(str((body.get("user") or {}).get("id") or ""))
    if member is None or not member.is_admin:
        errors = {FIRST_FIELD: NOT_A_MEMBER if member is None else ONLY_ADMINS}
    if errors:
        ack(response_action="errors", errors=errors)
        return
    assert member is not None
    try:
        if channel:
            channel_id = params_whole(str(view.get("private_metadata") or ""))
            target = (
                Channel.objects.filter(pk=channel_id).first() if channel_id is not None else None
            )
            if target is None:
                ack(response_action="errors", errors={FIRST_FIELD: "This channel is gone."})
                return
            channel_request_settings_update(actor=member, channel=target, values=values)
            if csm_changed:
                channel_set_csm(actor=member, channel=target, csm=csm)
        else:
            request_settings_update(actor=member, values=values)
    except ServiceError as exc:
        field = exc.field if exc.field and exc.field in state else FIRST_FIELD
        ack(response_action="errors", errors={field: exc.message})
        return
    ack()


def _global_config_submit(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
    """Save the workspace's request settings from the modal."""
    _settings_submit(ack, body, view, channel=False)


def _channel_config_submit(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
    """Save one channel's request settings from the modal."""
    _settings_submit(ack, body, view, channel=True)


def command_listeners_register(app: App) -> None:
    app.command(COMMAND)(_rapport_command)
    app.view(blocks.VIEW_GLOBAL_CONFIG)(_global_config_submit)
    app.view(blocks.VIEW_CHANNEL_CONFIG)(_channel_config_submit)
