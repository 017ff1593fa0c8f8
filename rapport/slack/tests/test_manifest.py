"""The app manifest in the repository asks for what the integration uses."""

from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml")
MANIFEST = Path(__file__).parent.parent / "manifest.yml"


def test_the_manifest_subscribes_to_channel_messages_at_the_events_endpoint() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text())
    events = manifest["settings"]["event_subscriptions"]
    assert events["request_url"].endswith("/integrations/slack/events")
    assert set(events["bot_events"]) == {"message.channels", "message.groups"}
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
