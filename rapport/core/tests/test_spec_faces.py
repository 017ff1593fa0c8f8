"""Every face of a spec derives from it: change the declaration, every face follows.

Schemas here are plain pydantic models: ninja schemas must have unique names.

Each face also refuses a bad value with the message the services give.
"""

import dataclasses
from typing import Any

import pytest
from django import forms
from pydantic import BaseModel, ValidationError

from rapport.core.spec_blocks import input_block, values_from_state
from rapport.core.spec_forms import form_field
from rapport.core.spec_schemas import (
    loose_schema_field,
    output_field,
    schema_field,
    schema_model,
    specs_fields,
)
from rapport.core.specs import FieldSpec, Kind

DAYS = FieldSpec("days", "Days", Kind.INT, help="How long.", required=True, min=0, max=365)
BAD = "400"
MESSAGE = "Days must be a whole number from 0 to 365."


def _form(spec: FieldSpec, **data: Any) -> forms.Form:
    form = forms.Form(data=data)
    form.fields[spec.name] = form_field(spec)
    return form


def _schema(spec: FieldSpec) -> Any:
    return schema_model(
        f"Check{id(spec)}", __name__, specs_fields([spec], schema_field), base=BaseModel
    )


def _state(spec: FieldSpec, text: str) -> dict[str, Any]:
    return {spec.name: {spec.name: {"type": "plain_text_input", "value": text}}}


def test_a_bound_changed_in_the_declaration_changes_every_face() -> None:
    wider = dataclasses.replace(DAYS, max=1000)
    for spec, top in ((DAYS, 365), (wider, 1000)):
        assert f'max="{top}"' in str(_form(spec)[spec.name])
        properties = _schema(spec).model_json_schema()["properties"]["days"]
        assert properties["maximum"] == top
        assert properties["description"] == "How long."
        block = input_block(spec, 3)
        assert block["label"]["text"] == "Days" and block["hint"]["text"] == "How long."
        loose = schema_model("Loose", __name__, {"days": loose_schema_field(spec)}, base=BaseModel)
        assert loose.model_json_schema()["properties"]["days"]["maximum"] == top
    assert _form(wider, days="400").is_valid()
    assert values_from_state((wider,), _state(wider, "400")) == ({"days": 400}, {})


def test_every_face_refuses_a_bad_value_with_the_same_message() -> None:
    form = _form(DAYS, days=BAD)
    assert not form.is_valid()
    assert form.errors["days"] == [MESSAGE]

    with pytest.raises(ValidationError) as caught:
        _schema(DAYS)(days=int(BAD))
    assert caught.value.errors()[0]["msg"] == MESSAGE
    with pytest.raises(ValidationError) as caught:
        _schema(DAYS)(days="many")
    assert caught.value.errors()[0]["msg"] == MESSAGE

    assert values_from_state((DAYS,), _state(DAYS, BAD)) == ({}, {"days": MESSAGE})


def test_an_override_offers_to_inherit_in_the_form_and_the_modal() -> None:
    switch = FieldSpec("alerts", "Alerts", Kind.BOOL, required=True)
    field = form_field(switch, inherited=True, override=True)
    assert isinstance(field, forms.ChoiceField)
    assert field.widget.choices[0] == ("", "Inherit (on)")
    block = input_block(switch, None, inherited=False, override=True)
    assert block["element"]["initial_option"]["text"]["text"] == "Workspace default (Off)"
    answer = {"alerts": {"alerts": {"selected_option": {"value": "inherit"}}}}
    assert values_from_state((switch,), answer, override=True) == ({"alerts": None}, {})


def test_an_answer_field_carries_the_declared_type_and_help() -> None:
    model = schema_model("Out", __name__, specs_fields([DAYS], output_field), base=BaseModel)
    properties = model.model_json_schema()["properties"]["days"]
    assert properties["type"] == "integer" and properties["description"] == "How long."
