"""Derive Slack Block Kit inputs from field specs, and read their answers back.

A modal's input block carries its spec's name as block_id and action_id, so a
submission's `view.state.values[name][name]` is that field's answer, and a refusal
(`response_action: errors`) keyed by the field's name shows next to it.
"""

from typing import Any

from rapport.core.errors import InvalidInput
from rapport.core.specs import FieldSpec, Kind

Block = dict[str, Any]

INHERIT = "inherit"
ON, OFF = "on", "off"


def _plain(text: str, limit: int = 75) -> Block:
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return {"type": "plain_text", "text": text, "emoji": True}


def _option(value: str, text: str) -> Block:
    return {"text": _plain(text), "value": value}


def _options(spec: FieldSpec) -> list[Block]:
    if spec.kind == Kind.BOOL:
        return [_option(ON, "On"), _option(OFF, "Off")]
    return [_option(value, str(label)) for value, label in spec.choices]


def _option_value(spec: FieldSpec, value: Any) -> str:
    if spec.kind == Kind.BOOL:
        return ON if value else OFF
    return "" if value is None else str(value)


def input_block(
    spec: FieldSpec, value: Any, *, inherited: Any = None, override: bool = False
) -> Block:
    """Return the modal input of *spec* showing *value*.

    With *override* (a channel's own value) the input may be left empty, or at
    "Workspace default", to inherit *inherited*.
    """
    element: Block
    if spec.kind in (Kind.BOOL, Kind.CHOICE):
        options = _options(spec)
        if override:
            shown = next(
                (
                    o["text"]["text"]
                    for o in options
                    if o["value"] == _option_value(spec, inherited)
                ),
                "",
            )
            options = [_option(INHERIT, f"Workspace default ({shown})"), *options]
        element = {"type": "static_select", "action_id": spec.name, "options": options}
        current = INHERIT if override and value is None else _option_value(spec, value)
        initial = next((o for o in options if o["value"] == current), None)
        if initial is not None:
            element["initial_option"] = initial
    elif spec.kind == Kind.CHANNEL:
        element = {
            "type": "conversations_select",
            "action_id": spec.name,
            # A triage channel is the team's own: shared channels are for customers.
            "filter": {
                "include": ["public", "private"],
                "exclude_external_shared_channels": True,
                "exclude_bot_users": True,
            },
            "placeholder": _plain("Choose a channel"),
        }
        if value:
            element["initial_conversation"] = value
    else:
        element = {"type": "plain_text_input", "action_id": spec.name}
        if spec.max_length is not None:
            element["max_length"] = spec.max_length
        if value not in (None, ""):
            element["initial_value"] = spec.show(value)
        if override:
            element["placeholder"] = _plain(f"Workspace default: {spec.show(inherited)}")
    block: Block = {
        "type": "input",
        "block_id": spec.name,
        "label": _plain(spec.label, 2000),
        "element": element,
        "optional": override or not spec.required,
    }
    hint = spec.help
    if override and spec.kind not in (Kind.BOOL, Kind.CHOICE):
        hint = f"{hint} Leave empty to use the workspace's setting.".strip()
    if hint:
        block["hint"] = _plain(hint, 2000)
    return block


def _answer_text(spec: FieldSpec, answer: Block) -> Any:
    if spec.kind in (Kind.BOOL, Kind.CHOICE):
        choice = (answer.get("selected_option") or {}).get("value")
        return "" if choice in (None, INHERIT) else choice
    if spec.kind == Kind.CHANNEL:
        return answer.get("selected_conversation") or ""
    return answer.get("value") or ""


def values_from_state(
    specs: tuple[FieldSpec, ...], state: dict[str, Any], *, override: bool = False
) -> tuple[dict[str, Any], dict[str, str]]:
    """Read a submitted modal: (clean values by name, errors by block_id).

    An input missing from the submitted view leaves its field as it is. With
    *override* an empty or "Workspace default" answer is None (inherit).
    """
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for spec in specs:
        answer = (state.get(spec.name) or {}).get(spec.name)
        if answer is None:
            continue
        raw = _answer_text(spec, answer)
        if spec.kind in (Kind.BOOL, Kind.CHOICE) and raw == "" and not override:
            continue  # nothing picked: leave the setting as it is
        try:
            values[spec.name] = spec.parse(raw, nullable=override)
        except InvalidInput as exc:
            errors[spec.name] = exc.message
    return values, errors
