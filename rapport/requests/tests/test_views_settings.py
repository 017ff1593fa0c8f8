"""The request settings: the workspace's and a channel's overrides (`views_settings.py`)."""

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from rapport.inbox.models import Channel
from rapport.requests.config import request_settings_get
from rapport.requests.models import ChannelRequestSettings
from rapport.requests.tests.kit import page_text

pytestmark = pytest.mark.django_db

SETTINGS = reverse("requests:settings")


def _settings_post(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "detection_mode": "aggressive",
        "grouping_window_seconds": "120",
        "emoji_assigned": "eyes",
        "emoji_closed": "white_check_mark",
        "auto_close_days": "30",
        "nudge_after_hours": "24",
        "triage_channel_id": "",
        "ticket_address": "",
        "detection_enabled": "on",
        "assign_first_responder": "on",
        "assign_csm": "on",
        "dm_assignee": "on",
        "emoji_enabled": "on",
        "csat_enabled": "on",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_members_see_the_settings_read_only_and_cannot_save(
    member_client: Client, channel: Channel
) -> None:
    page = page_text(member_client.get(SETTINGS))
    assert "Only an admin can change these settings" in page
    assert "Save settings" not in page
    assert re.search(r'name="auto_close_days" value="30"[^>]* disabled', page)
    assert "#acme-support" in page
    response = member_client.post(SETTINGS, _settings_post(auto_close_days="5"))
    assert response.status_code == 403
    assert request_settings_get().auto_close_days == 30
    channel_url = reverse("requests:channel_settings", args=[channel.pk])
    assert member_client.post(channel_url, {"auto_close_days": "3"}).status_code == 403
    assert not ChannelRequestSettings.objects.exists()


def test_admins_save_the_workspace_settings(admin_client: Client) -> None:
    response = admin_client.post(
        SETTINGS,
        _settings_post(
            auto_close_days="14", ticket_address="help@tickets.example", csat_enabled=None
        ),
        follow=True,
    )
    assert "Saved the request settings." in page_text(response)
    settings = request_settings_get()
    assert settings.auto_close_days == 14
    assert settings.ticket_address == "help@tickets.example"
    assert settings.csat_enabled is False


def test_a_bad_setting_is_shown_next_to_its_field(admin_client: Client) -> None:
    response = admin_client.post(SETTINGS, _settings_post(emoji_closed="two words"))
    assert response.status_code == 400
    assert "Emoji when closed is one word of at most 64 characters." in page_text(response)
    assert request_settings_get().emoji_closed == "white_check_mark"


def test_admins_override_a_channel_and_set_it_back_to_inherit(
    admin_client: Client, channel: Channel
) -> None:
    url = reverse("requests:channel_settings", args=[channel.pk])
    form = page_text(admin_client.get(url))
    assert '<option value="" selected>Inherit (on)</option>' in form

    response = admin_client.post(
        url, {"detection_enabled": "off", "auto_close_days": "7", "detection_mode": "conservative"}
    )
    assert response.status_code == 302
    overrides = ChannelRequestSettings.objects.get(channel=channel)
    assert overrides.detection_enabled is False
    assert overrides.auto_close_days == 7
    assert overrides.detection_mode == "conservative"
    assert overrides.csat_enabled is None
    table = page_text(admin_client.get(SETTINGS))
    assert re.search(r"#acme-support</th>\s*<td>Off</td>", table)

    admin_client.post(url, {"detection_enabled": "", "auto_close_days": ""})
    overrides.refresh_from_db()
    assert overrides.detection_enabled is None and overrides.auto_close_days is None
