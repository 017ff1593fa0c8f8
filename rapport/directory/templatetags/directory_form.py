"""The directory's filter options, extra-field filters and column picker, built in Python.

The filter form lists every owner, status, source, industry, CRM state and extra field
with its choices, and the picker every column, on each directory page: template loops
with an `{% if %}` per option made them a large share of the page's rendering. Values
are shown as `{{ }}` shows them (localized, then escaped).
"""

import html
from collections.abc import Iterable
from typing import Any

from django import template
from django.utils.formats import localize
from django.utils.safestring import SafeString, mark_safe

from rapport.directory.columns import Column

register = template.Library()


def _shown(value: object) -> str:
    return html.escape(value if isinstance(value, str) else str(localize(value)), quote=True)


@register.simple_tag
def select_options(choices: Iterable[Any], selected: object) -> SafeString:
    """Render an `<option>` per choice, the one equal to *selected* selected.

    A choice is a (value, label) pair, or a value that is its own label.
    """
    options = []
    for choice in choices:
        value, label = choice if isinstance(choice, tuple) else (choice, choice)
        mark = " selected" if selected == value else ""
        options.append(f'<option value="{_shown(value)}"{mark}>{_shown(label)}</option>')
    return mark_safe("".join(options))  # noqa: S308 - escaped by _shown


@register.simple_tag
def column_checks(columns: Iterable[tuple[Column, bool]]) -> SafeString:
    """Render the column picker's checkbox per column, checked if the column is shown.

    The name column always shows: its box is disabled, and a hidden input keeps it.
    """
    checks = []
    for column, checked in columns:
        if column.key == "name":
            box = (
                '<input type="checkbox" checked disabled>'
                '<input type="hidden" name="columns" value="name">'
            )
        else:
            mark = " checked" if checked else ""
            box = f'<input type="checkbox" name="columns" value="{_shown(column.key)}"{mark}>'
        checks.append(
            f'<label class="check">\n                {box}\n'
            f"                {_shown(column.label)}\n              </label>"
        )
    return mark_safe("\n              ".join(checks))  # noqa: S308 - escaped by _shown


def _field_control(control: dict[str, Any]) -> str:
    field = control["field"]
    key, label, name = _shown(field.key), _shown(field.label), _shown(control["name"])
    if control["kind"] == "choice":
        options = select_options(field.choices, control["value"])
        return (
            f'<div class="field">\n'
            f'      <label for="filter-{key}">{label}</label>\n'
            f'      <select id="filter-{key}" name="{name}">\n'
            f'        <option value="">Any</option>\n'
            f"        {options}\n"
            f"      </select>\n"
            f"    </div>"
        )
    if control["kind"] == "range":
        kind = _shown(control["input_type"])
        return (
            f'<fieldset class="field range">\n'
            f"      <legend>{label}</legend>\n"
            f'      <div class="range-inputs">\n'
            f'        <input type="{kind}" name="{name}.min" value="{_shown(control["min"])}" '
            f'placeholder="Min" step="any" aria-label="{label} from">\n'
            f'        <span aria-hidden="true">–</span>\n'
            f'        <input type="{kind}" name="{name}.max" value="{_shown(control["max"])}" '
            f'placeholder="Max" step="any" aria-label="{label} to">\n'
            f"      </div>\n"
            f"    </fieldset>"
        )
    return (
        f'<div class="field">\n'
        f'      <label for="filter-{key}">{label}</label>\n'
        f'      <input type="text" id="filter-{key}" name="{name}" '
        f'value="{_shown(control["value"])}" placeholder="Exact value">\n'
        f"    </div>"
    )


@register.simple_tag
def field_filters(controls: list[dict[str, Any]]) -> SafeString:
    """Render the filter of each extra field: choices to pick, a range, or an exact value.

    A control is the view's description of one field's filter (`kind`, the parameter's
    `name` and the values asked for).
    """
    return mark_safe("\n    ".join(_field_control(c) for c in controls))  # noqa: S308
