"""The request settings are declared once: the page, the API, the modals and the service
take the same values and refuse the same ones with the same message."""

import dataclasses
from typing import Any

import pytest
from django.db.models import Field
from django.test import Client
from django.urls import reverse

from rapport.core.errors import InvalidInput
from rapport.core.specs import FieldSpec, Kind
from rapport.inbox.models import Channel
from rapport.integrations.slack import blocks
from rapport.requests import specs
from rapport.requests.config import request_settings_get
from rapport.requests.forms import ChannelOverridesForm, RequestSettingsForm
from rapport.requests.models import ChannelRequestSettings, RequestSettings
from rapport.requests.schemas import RequestSettingsOut, RequestSettingsPatchIn
from rapport.requests.services import request_settings_update
from rapport.users.models import User

pytestmark = pytest.mark.django_db

API = "/api/v1/request-settings"


@pytest.mark.parametrize("spec", specs.WORKSPACE_SPECS, ids=lambda spec: spec.name)
def test_each_declaration_matches_its_column(spec: FieldSpec) -> None:
    column = RequestSettings._meta.get_field(spec.name)
    assert isinstance(column, Field)
    assert spec.default == column.get_default()
    if spec.max_length is not None:
        assert column.max_length is not None and spec.max_length <= column.max_length
    if spec.name in specs.CHANNEL:
        ChannelRequestSettings._meta.get_field(spec.name)  # a channel can override it


@pytest.mark.parametrize(
    ("spec", "bad"),
    [
        (specs.AUTO_CLOSE_DAYS, -3),
        (specs.GROUPING_WINDOW, 10_000_001),
        (specs.DETECTION_MODE, "wild"),
        (specs.TICKET_ADDRESS, "not-an-email"),
        (specs.TRIAGE_CHANNEL, "two words"),
    ],
    ids=lambda value: getattr(value, "name", str(value)),
)
def test_every_face_refuses_a_bad_setting_with_the_declared_message(
    spec: FieldSpec, bad: Any, admin_client: Client, admin_api: Client, boss: User
) -> None:
    message = spec.message()

    with pytest.raises(InvalidInput) as caught:
        request_settings_update(actor=boss, values={spec.name: bad})
    assert (caught.value.message, caught.value.field) == (message, spec.name)

    answer = admin_api.patch(API, {spec.name: bad}, content_type="application/json")
    assert answer.status_code == 400
    assert answer.json() == {"error": message, "field": spec.name}

    settings = request_settings_get()
    form = RequestSettingsForm(
        {**{s.name: getattr(settings, s.name) for s in specs.WORKSPACE_SPECS}, spec.name: bad},
        settings=settings,
    )
    assert not form.is_valid() and form.errors[spec.name] == [message]

    answers = {spec.name: {spec.name: _answer(spec, str(bad))}}
    assert blocks.settings_from_state(answers, channel=False) == ({}, {spec.name: message})
    assert request_settings_get().auto_close_days == 30  # nothing was saved


def _answer(spec: FieldSpec, text: str) -> dict[str, Any]:
    if spec.kind == Kind.CHOICE:
        return {"type": "static_select", "selected_option": {"value": text}}
    if spec.kind == Kind.CHANNEL:
        return {"type": "conversations_select", "selected_conversation": text}
    return {"type": "plain_text_input", "value": text}


def test_the_faces_show_the_declared_labels_help_and_bounds(channel: Channel) -> None:
    settings = request_settings_get()
    form = RequestSettingsForm(settings=settings)
    modal = {b["block_id"]: b for b in blocks.global_config_modal(settings)["blocks"]}
    overrides = ChannelOverridesForm(workspace=settings)
    schema = RequestSettingsPatchIn.model_json_schema()["properties"]
    for spec in specs.WORKSPACE_SPECS:
        assert form.fields[spec.name].label == spec.label
        assert RequestSettingsOut.model_fields[spec.name].description == (spec.help or None)
        if spec.name in modal:
            assert modal[spec.name]["label"]["text"] == spec.label
        if spec.name in specs.CHANNEL:
            assert overrides.fields[spec.name].label == spec.label
    days = specs.AUTO_CLOSE_DAYS
    assert (schema[days.name]["minimum"], schema[days.name]["maximum"]) == (days.min, days.max)
    assert f'max="{days.max}"' in str(form[days.name])
    assert modal[days.name]["hint"]["text"] == days.help


def test_a_changed_declaration_changes_the_page_and_the_modal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shorter = dataclasses.replace(specs.AUTO_CLOSE_DAYS, label="Close after", max=90)
    changed = tuple(shorter if s.name == shorter.name else s for s in specs.WORKSPACE_SPECS)
    monkeypatch.setattr("rapport.requests.forms.WORKSPACE_SPECS", changed)
    monkeypatch.setattr(blocks, "MODAL_SPECS", changed)
    settings = request_settings_get()
    field = RequestSettingsForm(settings=settings)[shorter.name]
    assert field.label == "Close after" and 'max="90"' in str(field)
    modal = {b["block_id"]: b for b in blocks.global_config_modal(settings)["blocks"]}
    assert modal[shorter.name]["label"]["text"] == "Close after"
    answers = {shorter.name: {shorter.name: _answer(shorter, "91")}}
    assert blocks.settings_from_state(answers, channel=False)[1] == {
        shorter.name: "Close after must be a whole number from 0 to 90."
    }


def test_a_channel_override_of_blank_inherits_on_every_face(
    admin_client: Client, admin_api: Client, channel: Channel
) -> None:
    url = reverse("requests:channel_settings", args=[channel.pk])
    assert admin_client.post(url, {"auto_close_days": "7"}).status_code == 302
    answer = {"auto_close_days": {"auto_close_days": _answer(specs.AUTO_CLOSE_DAYS, "")}}
    assert blocks.settings_from_state(answer, channel=True) == ({"auto_close_days": None}, {})
    body = admin_api.patch(
        f"{API}/channels/{channel.pk}", {"auto_close_days": None}, content_type="application/json"
    ).json()
    assert body["overrides"]["auto_close_days"] is None
