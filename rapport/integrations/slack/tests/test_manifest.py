"""The app manifest in the repository asks for what the integration uses."""

import re
from pathlib import Path
from typing import Any

import pytest
from django.urls import resolve

from rapport.integrations.slack import blocks
from rapport.integrations.slack.commands import COMMAND

yaml = pytest.importorskip("yaml")
MANIFEST = Path(__file__).parent.parent / "manifest.yml"


@pytest.fixture
def manifest() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(MANIFEST.read_text())
    return loaded


def _path(url: str) -> str:
    return re.sub(r"^https://[^/]+", "", url)


def test_the_manifest_subscribes_to_channel_messages_at_the_events_endpoint(
    manifest: dict[str, Any],
) -> None:
    events = manifest["settings"]["event_subscriptions"]
    assert events["request_url"].endswith("/integrations/slack/events")
    assert set(events["bot_events"]) == {"message.channels", "message.groups", "app_home_opened"}
    assert set(manifest["oauth_config"]["scopes"]["bot"]) >= {
        "channels:history",
        "groups:history",
        "channels:read",
        "groups:read",
        "users:read",
        "users:read.email",
        "chat:write",
        "reactions:write",
        "im:write",
        "commands",
    }
    assert manifest["settings"]["interactivity"]["request_url"].endswith(
        "/integrations/slack/actions"
    )
    assert manifest["features"]["slash_commands"][0]["url"].endswith("/integrations/slack/commands")


def test_every_url_in_the_manifest_is_served(manifest: dict[str, Any]) -> None:
    urls = [
        manifest["settings"]["event_subscriptions"]["request_url"],
        manifest["settings"]["interactivity"]["request_url"],
        *(command["url"] for command in manifest["features"]["slash_commands"]),
    ]
    assert {resolve(_path(url)).url_name for url in urls} == {"events", "actions", "commands"}


def test_the_manifest_declares_the_home_tab_command_and_shortcut_the_app_handles(
    manifest: dict[str, Any],
) -> None:
    features = manifest["features"]
    assert features["app_home"]["home_tab_enabled"] is True
    assert [c["command"] for c in features["slash_commands"]] == [COMMAND]
    [shortcut] = features["shortcuts"]
    assert (shortcut["type"], shortcut["callback_id"], shortcut["name"]) == (
        "message",
        blocks.SHORTCUT_ASSIGN_TO,
        "Assign to",
    )
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
