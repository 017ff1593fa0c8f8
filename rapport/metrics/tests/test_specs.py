"""The SLA policy fields are declared once: the page, the API and the service take the
same bounds and refuse a bad value with the same message."""

import dataclasses

import pytest
from django.test import Client

from rapport.core.errors import InvalidInput
from rapport.metrics import specs
from rapport.metrics.forms import SlaPolicyForm
from rapport.metrics.schemas import SlaPolicyIn, SlaPolicyPatchIn
from rapport.metrics.services import sla_policy_create
from rapport.users.models import User

pytestmark = pytest.mark.django_db

TARGET = specs.FIRST_RESPONSE_MINUTES


@pytest.mark.parametrize("bad", [0, specs.FIRST_RESPONSE_MINUTES.max + 1])  # type: ignore[operator]
def test_every_face_refuses_a_target_out_of_bounds_with_the_declared_message(
    bad: int, admin_api: Client, admin_user: User
) -> None:
    message = TARGET.message()
    with pytest.raises(InvalidInput) as caught:
        sla_policy_create(actor=admin_user, name="Gold", first_response_minutes=bad)
    assert (caught.value.message, caught.value.field) == (message, TARGET.name)

    answer = admin_api.post(
        "/api/v1/metrics/sla-policies",
        {"name": "Gold", TARGET.name: bad},
        content_type="application/json",
    )
    assert answer.status_code == 422
    assert answer.json()["error"].endswith(f"{TARGET.name}: {message}")

    form = SlaPolicyForm(
        {
            "name": "Gold",
            "timezone": "UTC",
            "day_start": "09:00",
            "day_end": "18:00",
            TARGET.name: bad,
        }
    )
    assert not form.is_valid() and form.errors[TARGET.name] == [message]


def test_the_form_and_the_schemas_show_the_declared_bounds_and_help() -> None:
    form = SlaPolicyForm()
    for schema in (SlaPolicyIn, SlaPolicyPatchIn):
        tier = schema.model_json_schema()["properties"]["tier"]
        assert specs.TIER.max_length in (
            tier.get("maxLength"),
            tier.get("anyOf", [{}])[0].get("maxLength"),
        )
        assert tier["description"] == specs.TIER.help
    for spec in specs.POLICY_SPECS:
        assert form.fields[spec.name].label == spec.label
    assert f'max="{TARGET.max}"' in str(form[TARGET.name])


def test_a_changed_bound_changes_the_page(monkeypatch: pytest.MonkeyPatch) -> None:
    tighter = dataclasses.replace(TARGET, max=60)
    monkeypatch.setattr(
        "rapport.metrics.forms.POLICY_SPECS",
        tuple(tighter if s.name == TARGET.name else s for s in specs.POLICY_SPECS),
    )
    form = SlaPolicyForm({"name": "Gold", "timezone": "UTC", TARGET.name: "61"})
    assert not form.is_valid()
    assert form.errors[TARGET.name] == [tighter.message()]
    assert "from 1 to 60" in tighter.message()
