"""`/rapport`: help, and the workspace's and a channel's request settings modals."""

from collections.abc import Callable
from typing import Any

import pytest

from rapport.audit.models import AuditEntry
from rapport.inbox.services import channel_set_csm
from rapport.integrations.slack.tests.conftest import (
    ADMIN_SLACK,
    MEMBER_SLACK,
    FakeSlackApi,
    Response,
    Workspace,
    all_text,
    payload,
)
from rapport.requests.config import request_config_for, request_settings_get
from rapport.requests.models import ChannelRequestSettings

pytestmark = pytest.mark.django_db

Slash = Callable[..., Response]
Interact = Callable[[dict[str, Any]], Response]


def opened_modal(slack: FakeSlackApi) -> dict[str, Any]:
    [opened] = slack.asked("views.open")
    assert opened["trigger_id"] == payload("slash_command")["trigger_id"]
    view: dict[str, Any] = opened["view"]
    return view


def answer(block: dict[str, Any]) -> dict[str, Any]:
    """What Slack sends back for an input block left as the modal showed it."""
    element = block["element"]
    kind = element["type"]
    if kind == "static_select":
        return {"type": kind, "selected_option": element.get("initial_option")}
    if kind == "conversations_select":
        return {"type": kind, "selected_conversation": element.get("initial_conversation")}
    if kind == "users_select":
        return {"type": kind, "selected_user": element.get("initial_user")}
    return {"type": kind, "value": element.get("initial_value")}


def submission(
    modal: dict[str, Any], changes: dict[str, Any], *, user: str = ADMIN_SLACK
) -> dict[str, Any]:
    """Submit *modal* as shown, with *changes* (block_id -> option value, text or channel)."""
    values: dict[str, Any] = {}
    for block in modal["blocks"]:
        if block["type"] != "input":
            continue
        name = block["block_id"]
        state = answer(block)
        if name in changes:
            change = changes[name]
            if state["type"] == "static_select":
                options = block["element"]["options"]
                state["selected_option"] = next(o for o in options if o["value"] == change)
            elif state["type"] == "conversations_select":
                state["selected_conversation"] = change
            elif state["type"] == "users_select":
                state["selected_user"] = change
            else:
                state["value"] = change
        values[name] = {block["element"]["action_id"]: state}
    body = payload("view_submission")
    body["user"]["id"] = user
    body["view"].update(
        callback_id=modal["callback_id"],
        private_metadata=modal.get("private_metadata", ""),
        blocks=modal["blocks"],
        state={"values": values},
    )
    return body


def test_help_explains_the_command(slack: FakeSlackApi, workspace: Workspace, slash: Slash) -> None:
    response = slash("help", user=MEMBER_SLACK)
    assert response.status_code == 200
    text = response.json()["text"]
    assert "/rapport config" in text and "/rapport channel config" in text
    assert "Assign to" in text
    assert slack.asked("views.open") == []


def test_an_unknown_subcommand_gets_the_help(
    slack: FakeSlackApi, workspace: Workspace, slash: Slash
) -> None:
    text = slash("frobnicate", user=MEMBER_SLACK).json()["text"]
    assert "does not know `/rapport frobnicate`" in text
    assert "/rapport config" in text


@pytest.mark.parametrize("words", ["config", "global config", "Global Config request management"])
def test_an_admin_opens_the_workspace_settings_modal(
    slack: FakeSlackApi, workspace: Workspace, slash: Slash, words: str
) -> None:
    response = slash(words, user=ADMIN_SLACK)
    assert response.status_code == 200
    modal = opened_modal(slack)
    assert modal["callback_id"] == "request_config_global"
    inputs = {b["block_id"]: b for b in modal["blocks"] if b["type"] == "input"}
    assert set(inputs) == {
        "detection_enabled",
        "detection_mode",
        "grouping_window_seconds",
        "assign_first_responder",
        "assign_csm",
        "dm_assignee",
        "emoji_enabled",
        "status_updates",
        "auto_close_days",
        "nudge_after_hours",
        "csat_enabled",
        "triage_channel_id",
        "ticket_address",
    }
    # The modal shows the settings as they are.
    assert inputs["detection_enabled"]["element"]["initial_option"]["value"] == "off"
    assert inputs["grouping_window_seconds"]["element"]["initial_value"] == "120"
    assert inputs["triage_channel_id"]["element"]["initial_conversation"] == "C0TRIAGE1"


@pytest.mark.parametrize(
    ("user", "refusal"), [(MEMBER_SLACK, "Only Rapport admins"), ("U0999EVE", "not linked")]
)
def test_only_admins_open_the_settings(
    slack: FakeSlackApi, workspace: Workspace, slash: Slash, user: str, refusal: str
) -> None:
    for words in ("config", "channel config"):
        assert refusal in slash(words, user=user).json()["text"]
    assert slack.asked("views.open") == []


def test_the_workspace_settings_modal_saves_the_settings(
    slack: FakeSlackApi, workspace: Workspace, slash: Slash, interact: Interact
) -> None:
    slash("config", user=ADMIN_SLACK)
    changes = {
        "detection_enabled": "on",
        "detection_mode": "conservative",
        "grouping_window_seconds": "0",
        "assign_csm": "off",
        "auto_close_days": "14",
        "nudge_after_hours": "48",
        "csat_enabled": "off",
        "triage_channel_id": "C0NEWTRIA",
        "ticket_address": "support@tickets.example",
    }
    response = interact(submission(opened_modal(slack), changes))
    assert response.status_code == 200
    assert response.content in (b"", b"{}")  # the modal closes
    saved = request_settings_get()
    assert saved.detection_enabled is True
    assert saved.detection_mode == "conservative"
    assert saved.grouping_window_seconds == 0
    assert saved.assign_csm is False
    assert saved.assign_first_responder is True  # left as it was
    assert (saved.auto_close_days, saved.nudge_after_hours) == (14, 48)
    assert saved.csat_enabled is False
    assert saved.triage_channel_id == "C0NEWTRIA"
    assert saved.ticket_address == "support@tickets.example"


@pytest.mark.parametrize(
    ("changes", "field", "error"),
    [
        ({"grouping_window_seconds": "two minutes"}, "grouping_window_seconds", "whole number"),
        ({"auto_close_days": "-3"}, "auto_close_days", "whole number"),
        ({"nudge_after_hours": ""}, "nudge_after_hours", "whole number"),
        ({"ticket_address": "not-an-email"}, "ticket_address", "not an email address"),
    ],
)
def test_the_workspace_settings_modal_rejects_bad_values_and_saves_nothing(
    slack: FakeSlackApi,
    workspace: Workspace,
    slash: Slash,
    interact: Interact,
    changes: dict[str, str],
    field: str,
    error: str,
) -> None:
    slash("config", user=ADMIN_SLACK)
    body = submission(opened_modal(slack), {**changes, "csat_enabled": "off"})
    answer = interact(body).json()
    assert answer["response_action"] == "errors"
    assert error in answer["errors"][field]
    saved = request_settings_get()
    assert saved.csat_enabled is True
    assert saved.grouping_window_seconds == 120


def test_a_member_who_is_not_admin_cannot_save_the_settings(
    slack: FakeSlackApi, workspace: Workspace, slash: Slash, interact: Interact
) -> None:
    slash("config", user=ADMIN_SLACK)
    body = submission(opened_modal(slack), {"csat_enabled": "off"}, user=MEMBER_SLACK)
    answer = interact(body).json()
    assert answer["response_action"] == "errors"
    assert "Only Rapport admins" in answer["errors"]["detection_enabled"]
    assert request_settings_get().csat_enabled is True


def test_the_channel_settings_modal_overrides_the_workspace_for_that_channel(
    slack: FakeSlackApi, workspace: Workspace, slash: Slash, interact: Interact
) -> None:
    slash("channel config", user=ADMIN_SLACK)
    modal = opened_modal(slack)
    assert modal["callback_id"] == "request_config_channel"
    assert "acme-support" in all_text(modal["blocks"])
    inputs = {b["block_id"]: b for b in modal["blocks"] if b["type"] == "input"}
    assert "ticket_address" not in inputs  # workspace-wide only
    detection = inputs["detection_enabled"]["element"]
    assert detection["initial_option"]["value"] == "inherit"
    assert detection["initial_option"]["text"]["text"] == "Workspace default (Off)"

    changes = {"emoji_enabled": "off", "grouping_window_seconds": "30"}
    assert interact(submission(modal, changes)).status_code == 200
    overrides = ChannelRequestSettings.objects.get(channel=workspace.channel)
    assert overrides.emoji_enabled is False
    assert overrides.grouping_window_seconds == 30
    assert overrides.detection_enabled is None  # still the workspace's
    config = request_config_for(workspace.channel)
    assert (config.emoji_enabled, config.grouping_window_seconds) == (False, 30)
    assert request_config_for(None).emoji_enabled is True

    # Back to the workspace default: the override is cleared.
    slack.calls.clear()
    slash("channel config", user=ADMIN_SLACK)
    modal = opened_modal(slack)
    inputs = {b["block_id"]: b for b in modal["blocks"] if b["type"] == "input"}
    assert inputs["emoji_enabled"]["element"]["initial_option"]["value"] == "off"
    interact(submission(modal, {"emoji_enabled": "inherit", "grouping_window_seconds": ""}))
    overrides.refresh_from_db()
    assert overrides.emoji_enabled is None
    assert overrides.grouping_window_seconds is None


def test_the_channel_settings_modal_rejects_bad_values(
    slack: FakeSlackApi, workspace: Workspace, slash: Slash, interact: Interact
) -> None:
    slash("channel config", user=ADMIN_SLACK)
    body = submission(opened_modal(slack), {"auto_close_days": "soon", "csat_enabled": "off"})
    answer = interact(body).json()
    assert "whole number" in answer["errors"]["auto_close_days"]
    assert not ChannelRequestSettings.objects.exists()


def test_channel_config_in_a_new_channel_registers_it(
    slack: FakeSlackApi, workspace: Workspace, slash: Slash
) -> None:
    slack.add_channel("C0777BETA", name="beta-support")
    slash("channel config", user=ADMIN_SLACK, channel="C0777BETA")
    assert "beta-support" in all_text(opened_modal(slack)["blocks"])


def test_channel_config_in_a_direct_message_is_refused(
    slack: FakeSlackApi, workspace: Workspace, slash: Slash
) -> None:
    text = slash("channel config", user=ADMIN_SLACK, channel="D0222ADA").json()["text"]
    assert "in the customer channel" in text
    assert slack.asked("views.open") == []


# --- the channel's CSM -------------------------------------------------------------------------


def _csm_picker(modal: dict[str, Any]) -> dict[str, Any]:
    [block] = [b for b in modal["blocks"] if b.get("block_id") == "csm"]
    return block


def test_an_admin_picks_the_channels_csm_in_the_channel_modal(
    slack: FakeSlackApi, workspace: Workspace, slash: Slash, interact: Interact
) -> None:
    slash("channel config", user=ADMIN_SLACK)
    modal = opened_modal(slack)
    picker = _csm_picker(modal)
    assert picker["element"]["type"] == "users_select"
    assert "initial_user" not in picker["element"]  # no CSM yet
    assert picker["optional"] is True

    response = interact(submission(modal, {"csm": MEMBER_SLACK}))

    assert response.status_code == 200
    assert response.content in (b"", b"{}")
    workspace.channel.refresh_from_db()
    assert workspace.channel.csm == workspace.member
    entry = AuditEntry.objects.get(action="channel.set_csm")
    assert entry.actor == workspace.admin
    # Opened again, the modal shows the CSM; saving it as shown keeps them.
    slack.calls.clear()
    slash("channel config", user=ADMIN_SLACK)
    modal = opened_modal(slack)
    assert _csm_picker(modal)["element"]["initial_user"] == MEMBER_SLACK
    interact(submission(modal, {"emoji_enabled": "off"}))
    workspace.channel.refresh_from_db()
    assert workspace.channel.csm == workspace.member
    assert AuditEntry.objects.filter(action="channel.set_csm").count() == 1


def test_clearing_the_csm_picker_leaves_the_channel_without_one(
    slack: FakeSlackApi, workspace: Workspace, slash: Slash, interact: Interact
) -> None:
    channel_set_csm(actor=workspace.admin, channel=workspace.channel, csm=workspace.member)
    slash("channel config", user=ADMIN_SLACK)

    interact(submission(opened_modal(slack), {"csm": None}))

    workspace.channel.refresh_from_db()
    assert workspace.channel.csm is None


def test_a_slack_user_who_is_no_member_cannot_be_the_csm(
    slack: FakeSlackApi, workspace: Workspace, slash: Slash, interact: Interact
) -> None:
    slash("channel config", user=ADMIN_SLACK)
    body = submission(opened_modal(slack), {"csm": "U0999EVE", "emoji_enabled": "off"})

    answer = interact(body).json()

    assert answer["response_action"] == "errors"
    assert "not an active Rapport member" in answer["errors"]["csm"]
    workspace.channel.refresh_from_db()
    assert workspace.channel.csm is None
    assert not ChannelRequestSettings.objects.exists()  # nothing else was saved either


def test_a_csm_slack_cannot_show_stays_when_the_picker_is_left_empty(
    slack: FakeSlackApi, workspace: Workspace, slash: Slash, interact: Interact, make_user: Any
) -> None:
    kim = make_user("kim@rapport.example", name="Kim Unlinked")
    channel_set_csm(actor=workspace.admin, channel=workspace.channel, csm=kim)
    slash("channel config", user=ADMIN_SLACK)
    modal = opened_modal(slack)
    picker = _csm_picker(modal)
    assert "initial_user" not in picker["element"]
    assert "Kim Unlinked" in picker["hint"]["text"]

    interact(submission(modal, {"emoji_enabled": "off"}))

    workspace.channel.refresh_from_db()
    assert workspace.channel.csm == kim


def test_a_member_who_is_not_admin_cannot_change_the_csm(
    slack: FakeSlackApi, workspace: Workspace, slash: Slash, interact: Interact
) -> None:
    slash("channel config", user=ADMIN_SLACK)
    body = submission(opened_modal(slack), {"csm": MEMBER_SLACK}, user=MEMBER_SLACK)

    answer = interact(body).json()

    assert "Only Rapport admins" in answer["errors"]["detection_enabled"]
    workspace.channel.refresh_from_db()
    assert workspace.channel.csm is None
