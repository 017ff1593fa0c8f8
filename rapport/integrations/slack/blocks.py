"""Block Kit for the Slack app: request cards, DMs, the App Home, modals and surveys.

Every block_id, action_id and callback_id the listeners match on is defined here, so a
button and the listener that answers it cannot drift apart. A request's actions block
carries the request id in its block_id (`request:<id>`), which is how a users_select
(that has no value of its own) knows which request it assigns.
"""

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rapport.core.query_params import params_whole
from rapport.core.spec_blocks import input_block, values_from_state
from rapport.core.specs import Kind
from rapport.requests.config import RequestConfig
from rapport.requests.models import ChannelRequestSettings, Request, RequestSettings, RequestStatus
from rapport.requests.notices import request_url
from rapport.requests.specs import CHANNEL_SPECS, WORKSPACE_SPECS

Block = dict[str, Any]

# Request actions (buttons and the assignee picker), on cards, DMs and the App Home.
ACTION_TAKE = "request_take"
ACTION_ASSIGN = "request_assign"
ACTION_HOLD = "request_hold"
ACTION_CLOSE = "request_close"
ACTION_REOPEN = "request_reopen"
ACTION_TICKET = "request_ticket"
ACTION_OPEN = "request_open"  # a link button: Slack still tells the app it was clicked
REQUEST_ACTIONS = (
    ACTION_TAKE,
    ACTION_ASSIGN,
    ACTION_HOLD,
    ACTION_CLOSE,
    ACTION_REOPEN,
    ACTION_TICKET,
)
REQUEST_BLOCK_PREFIX = "request:"

# The satisfaction survey: one button per score, `csat_rate_<score>`, in block `csat:<id>`.
CSAT_ACTION_PREFIX = "csat_rate_"
CSAT_BLOCK_PREFIX = "csat:"
CSAT_LABELS = {1: "😞 1", 2: "🙁 2", 3: "😐 3", 4: "🙂 4", 5: "😀 5"}

# Modals and the message shortcut.
VIEW_GLOBAL_CONFIG = "request_config_global"
VIEW_CHANNEL_CONFIG = "request_config_channel"
VIEW_ASSIGN_MESSAGE = "assign_message"
SHORTCUT_ASSIGN_TO = "assign_to"
BLOCK_ASSIGNEE = "assignee"
ACTION_ASSIGNEE = "assignee"
# The channel's CSM, a user picker on the channel settings modal.
BLOCK_CSM = "csm"
ACTION_CSM = "csm"

# Slack refuses a view of more than 100 blocks.
MAX_VIEW_BLOCKS = 100


def mrkdwn_escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mrkdwn_unescape(text: str) -> str:
    """Undo `mrkdwn_escape`, for text Slack hands back as it stores it."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def request_title_text(request: Request, limit: int = 150) -> str:
    """The request's title, safe to show in mrkdwn and in a message's text.

    Titles are plain text (a Slack message's markup is resolved when it is stored: links
    become their label, a customer's <!channel> becomes "@channel"), so escaping them is
    enough for them never to ping or link anything in the triage channel.
    """
    title = mrkdwn_escape(request.title)
    return title if len(title) <= limit else title[: limit - 1] + "…"


def _plain(text: str, limit: int = 75) -> Block:
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return {"type": "plain_text", "text": text, "emoji": True}


def _mrkdwn(text: str, limit: int = 3000) -> Block:
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return {"type": "mrkdwn", "text": text}


def _slack_date(moment: datetime.datetime) -> str:
    """Render a time in each reader's own time zone, with a UTC fallback."""
    fallback = moment.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"


def _person(slack_user_id: str, name: str) -> str:
    return f"<@{slack_user_id}>" if slack_user_id else mrkdwn_escape(name)


def request_assignee_text(request: Request) -> str:
    assignee = request.assignee
    if assignee is None:
        return "Unassigned"
    return _person(assignee.slack_user_id, assignee.display_name)


def request_link(request: Request) -> str:
    return f"<{request_url(request)}|#{request.pk} {request_title_text(request)}>"


def request_requester_text(request: Request) -> str:
    return mrkdwn_escape(request.requester_name or request.requester_email or "Unknown")


def request_block_id(request: Request) -> str:
    return f"{REQUEST_BLOCK_PREFIX}{request.pk}"


def request_id_from_block(block_id: str, prefix: str = REQUEST_BLOCK_PREFIX) -> int | None:
    """Return the request id a block_id names, or None when it names none."""
    if not block_id.startswith(prefix):
        return None
    number = block_id[len(prefix) :]
    return params_whole(number)


def _button(text: str, action_id: str, request: Request, style: str | None = None) -> Block:
    button: Block = {
        "type": "button",
        "text": _plain(text),
        "action_id": action_id,
        "value": str(request.pk),
    }
    if style:
        button["style"] = style
    return button


def request_actions_block(request: Request, *, ticketing: bool) -> Block:
    """The buttons a member can use on *request*, given its state.

    "Create ticket" shows only when a ticketing address is configured (*ticketing*) and
    the request has no ticket yet.
    """
    elements: list[Block] = []
    if request.status == RequestStatus.CLOSED:
        elements.append(_button("Reopen", ACTION_REOPEN, request))
    else:
        if request.assignee_id is None:
            elements.append(_button("Looking into it", ACTION_TAKE, request, "primary"))
        picker: Block = {
            "type": "users_select",
            "action_id": ACTION_ASSIGN,
            "placeholder": _plain("Assign to…"),
        }
        if request.assignee is not None and request.assignee.slack_user_id:
            picker["initial_user"] = request.assignee.slack_user_id
        elements.append(picker)
        if request.status == RequestStatus.PENDING:
            elements.append(_button("Resume", ACTION_REOPEN, request))
        else:
            elements.append(_button("Put on hold", ACTION_HOLD, request))
        elements.append(_button("Close", ACTION_CLOSE, request, "danger"))
        if ticketing and request.ticket_sent_at is None:
            elements.append(_button("Create ticket", ACTION_TICKET, request))
    elements.append(
        {
            "type": "button",
            "text": _plain("Open in Rapport"),
            "action_id": ACTION_OPEN,
            "url": request_url(request),
        }
    )
    return {"type": "actions", "block_id": request_block_id(request), "elements": elements}


def request_card_text(request: Request) -> str:
    """The notification's plain text: what Slack shows in notifications and to readers."""
    requester = mrkdwn_escape(request.requester_name or "a customer")
    return f"Request #{request.pk} from {requester}: {request_title_text(request)}"


def request_card_blocks(request: Request, *, ticketing: bool) -> list[Block]:
    """The triage channel's card for *request*: what it is, where from, who has it."""
    fields = [
        _mrkdwn(f"*Account*\n{mrkdwn_escape(request.account.name) if request.account else '—'}"),
        _mrkdwn(f"*Requester*\n{request_requester_text(request)}"),
        _mrkdwn(f"*Source*\n{request.get_source_display()}"),
        _mrkdwn(f"*Status*\n{request.get_status_display()}"),
        _mrkdwn(f"*Assignee*\n{request_assignee_text(request)}"),
    ]
    if request.channel is not None and request.channel.slack_channel_id:
        fields.append(_mrkdwn(f"*Channel*\n<#{request.channel.slack_channel_id}>"))
    blocks: list[Block] = [
        {"type": "section", "text": _mrkdwn(f"*{request_link(request)}*")},
        {"type": "section", "fields": fields},
        {
            "type": "context",
            "elements": [_mrkdwn(f"Asked {_slack_date(request.created_at)}")],
        },
    ]
    if request.ticket_reference:
        blocks[2]["elements"].append(_mrkdwn("Ticket created"))
    blocks.append(request_actions_block(request, ticketing=ticketing))
    return blocks


def request_dm_blocks(request: Request, text: str, *, ticketing: bool) -> list[Block]:
    """A DM to a member about *request* (assigned to them, or a nudge), with its actions."""
    account = mrkdwn_escape(request.account.name) if request.account else "No account"
    return [
        {"type": "section", "text": _mrkdwn(f"{mrkdwn_escape(text)}\n*{request_link(request)}*")},
        {
            "type": "context",
            "elements": [
                _mrkdwn(
                    f"{account} · {request_requester_text(request)} · "
                    f"{request.get_status_display()} · {_slack_date(request.created_at)}"
                )
            ],
        },
        request_actions_block(request, ticketing=ticketing),
    ]


def csat_survey_blocks(request: Request) -> list[Block]:
    """The customer's rating question, with one button per score."""
    return [
        {
            "type": "section",
            "text": _mrkdwn(
                f"This request is closed: *{request_title_text(request)}*\n"
                "How satisfied are you with the help you got?"
            ),
        },
        {
            "type": "actions",
            "block_id": f"{CSAT_BLOCK_PREFIX}{request.pk}",
            "elements": [
                {
                    "type": "button",
                    "text": _plain(label),
                    "action_id": f"{CSAT_ACTION_PREFIX}{score}",
                    "value": str(score),
                }
                for score, label in CSAT_LABELS.items()
            ],
        },
    ]


def csat_thanks_blocks(score: int) -> list[Block]:
    return [
        {
            "type": "section",
            "text": _mrkdwn(f"Thanks for rating! You gave {CSAT_LABELS.get(score, score)} of 5."),
        }
    ]


def notice_modal(title: str, text: str) -> Block:
    """A modal that only says something: an error, or why an action cannot be done.

    *text* is Rapport's own wording (mrkdwn), never a customer's.
    """
    return {
        "type": "modal",
        "title": _plain(title, 24),
        "close": _plain("Close"),
        "blocks": [{"type": "section", "text": _mrkdwn(text)}],
    }


def assign_message_modal(message_id: int) -> Block:
    """The "Assign to" shortcut's modal: pick the member who takes the message."""
    return {
        "type": "modal",
        "callback_id": VIEW_ASSIGN_MESSAGE,
        "private_metadata": str(message_id),
        "title": _plain("Assign request", 24),
        "submit": _plain("Assign"),
        "close": _plain("Cancel"),
        "blocks": [
            {
                "type": "input",
                "block_id": BLOCK_ASSIGNEE,
                "label": _plain("Assign this message to"),
                "element": {
                    "type": "users_select",
                    "action_id": ACTION_ASSIGNEE,
                    "placeholder": _plain("Choose a team member"),
                },
            }
        ],
    }


# --- App Home --------------------------------------------------------------------------------


@dataclass(frozen=True)
class AppHomeData:
    """What the App Home shows one member; the admin parts are None for others."""

    mine: Sequence[Request]
    mine_count: int
    incoming: Sequence[Request]
    incoming_count: int
    ticketing: bool
    on_hold: Sequence[Request] | None = None
    on_hold_count: int | None = None
    open_by_assignee: Sequence[tuple[str, int]] | None = None
    closed_last_week: int | None = None


def _home_request(request: Request, *, ticketing: bool) -> list[Block]:
    where = f" · <#{request.channel.slack_channel_id}>" if request.channel else ""
    account = mrkdwn_escape(request.account.name) if request.account else "No account"
    return [
        {
            "type": "section",
            "text": _mrkdwn(
                f"*{request_link(request)}*\n{account} · {request_requester_text(request)}"
                f"{where} · {request.get_status_display()} · {_slack_date(request.created_at)}"
            ),
        },
        request_actions_block(request, ticketing=ticketing),
    ]


def _home_list(
    title: str, requests: Sequence[Request], count: int, empty: str, *, ticketing: bool
) -> list[Block]:
    blocks: list[Block] = [{"type": "header", "text": _plain(f"{title} ({count})", 150)}]
    if not requests:
        blocks.append({"type": "context", "elements": [_mrkdwn(empty)]})
    for request in requests:
        blocks += _home_request(request, ticketing=ticketing)
    if count > len(requests):
        blocks.append(
            {
                "type": "context",
                "elements": [_mrkdwn(f"{count - len(requests)} more in Rapport.")],
            }
        )
    return blocks


def app_home_view(data: AppHomeData) -> Block:
    """The App Home of a member: their requests, incoming ones, and admin summaries."""
    blocks = _home_list(
        "My requests",
        data.mine,
        data.mine_count,
        "Nothing assigned to you is open.",
        ticketing=data.ticketing,
    )
    blocks.append({"type": "divider"})
    blocks += _home_list(
        "Incoming requests",
        data.incoming,
        data.incoming_count,
        "No unassigned request is waiting.",
        ticketing=data.ticketing,
    )
    if data.open_by_assignee is not None:
        blocks += [{"type": "divider"}, {"type": "header", "text": _plain("Team overview", 150)}]
        lines = [f"• {mrkdwn_escape(name)}: {count}" for name, count in data.open_by_assignee]
        blocks.append(
            {
                "type": "section",
                "text": _mrkdwn("*Open requests by assignee*\n" + ("\n".join(lines) or "None")),
            }
        )
        held = [f"• {request_link(r)}" for r in data.on_hold or []]
        more = (data.on_hold_count or 0) - len(held)
        if more > 0:
            held.append(f"… and {more} more")
        blocks.append(
            {
                "type": "section",
                "text": _mrkdwn(
                    f"*On hold ({data.on_hold_count or 0})*\n" + ("\n".join(held) or "None")
                ),
            }
        )
        blocks.append(
            {
                "type": "context",
                "elements": [_mrkdwn(f"Closed in the last 7 days: {data.closed_last_week or 0}")],
            }
        )
    return {"type": "home", "blocks": blocks[:MAX_VIEW_BLOCKS]}


def app_home_stranger_view() -> Block:
    """The App Home of a Slack user who is not a Rapport member."""
    return {
        "type": "home",
        "blocks": [
            {
                "type": "section",
                "text": _mrkdwn(
                    "Your Slack account is not linked to a Rapport member. Ask a Rapport admin "
                    "to set your Slack user id on your member profile."
                ),
            }
        ],
    }


# --- Request settings modals -----------------------------------------------------------------

# The workspace's modal leaves the emoji names to the settings page.
MODAL_SPECS = tuple(spec for spec in WORKSPACE_SPECS if spec.kind != Kind.WORD)


def global_config_modal(settings: RequestSettings) -> Block:
    """The workspace's request settings, as a modal."""
    blocks = [input_block(spec, getattr(settings, spec.name)) for spec in MODAL_SPECS]
    return {
        "type": "modal",
        "callback_id": VIEW_GLOBAL_CONFIG,
        "title": _plain("Request settings", 24),
        "submit": _plain("Save"),
        "close": _plain("Cancel"),
        "blocks": blocks,
    }


def channel_csm_block(csm_slack_user_id: str, csm_name: str) -> Block:
    """The channel's CSM as a user picker, showing the CSM when their Slack user is known.

    A CSM whose Slack user id is not set in Rapport cannot be shown in the picker; the
    hint names them, and leaving the picker empty then keeps them.
    """
    element: Block = {
        "type": "users_select",
        "action_id": ACTION_CSM,
        "placeholder": _plain("Choose a team member"),
    }
    hint = (
        "The member who looks after this channel. New requests here go to them while "
        '"Assign to the channel\'s CSM" is on. Clear it to leave the channel without one.'
    )
    if csm_slack_user_id:
        element["initial_user"] = csm_slack_user_id
    elif csm_name:
        hint = (
            f"Now {csm_name}, whose Slack user id is not set in Rapport, so Slack cannot show "
            "them here. Pick a member to replace them, or leave this empty to keep them."
        )
    return {
        "type": "input",
        "block_id": BLOCK_CSM,
        "label": _plain("Channel CSM"),
        "element": element,
        "optional": True,
        "hint": _plain(hint, 2000),
    }


def channel_csm_answer(view: Block) -> tuple[bool, str]:
    """Read the CSM picker of a submitted channel modal: (changed, the Slack user picked).

    The CSM changes only when the answer differs from what the modal showed, so a CSM
    Slack could not show stays when the picker is left empty.
    """
    answer = (((view.get("state") or {}).get("values") or {}).get(BLOCK_CSM) or {}).get(ACTION_CSM)
    if answer is None:
        return False, ""
    picked = str(answer.get("selected_user") or "")
    shown = next(
        (
            str((block.get("element") or {}).get("initial_user") or "")
            for block in view.get("blocks") or []
            if isinstance(block, dict) and block.get("block_id") == BLOCK_CSM
        ),
        "",
    )
    return picked != shown, picked


def channel_config_modal(
    channel_pk: int,
    channel_name: str,
    overrides: ChannelRequestSettings | None,
    workspace: RequestConfig,
    *,
    csm_slack_user_id: str = "",
    csm_name: str = "",
) -> Block:
    """One channel's CSM and its overrides of the request settings, as a modal."""
    intro: Block = {
        "type": "section",
        "text": _mrkdwn(
            f"Request settings for *#{mrkdwn_escape(channel_name)}*. "
            "Anything left at the workspace default follows the workspace's settings."
        ),
    }
    blocks = [intro, channel_csm_block(csm_slack_user_id, csm_name)] + [
        input_block(
            spec,
            getattr(overrides, spec.name) if overrides else None,
            inherited=getattr(workspace, spec.name),
            override=True,
        )
        for spec in CHANNEL_SPECS
    ]
    return {
        "type": "modal",
        "callback_id": VIEW_CHANNEL_CONFIG,
        "private_metadata": str(channel_pk),
        "title": _plain("Channel settings", 24),
        "submit": _plain("Save"),
        "close": _plain("Cancel"),
        "blocks": blocks,
    }


def settings_from_state(
    state: dict[str, Any], *, channel: bool
) -> tuple[dict[str, Any], dict[str, str]]:
    """Read a submitted settings modal: (values for the service, errors by block_id).

    On a channel's modal an empty or "workspace default" answer is None (inherit).
    """
    return values_from_state(CHANNEL_SPECS if channel else MODAL_SPECS, state, override=channel)
