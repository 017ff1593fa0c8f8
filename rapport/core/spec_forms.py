"""Derive Django form fields from field specs.

A derived field keeps Django's widget (and its HTML bounds), but cleans through the
spec: the form refuses what the services refuse, with the same message.
"""

from typing import Any

from django import forms

from rapport.core.errors import InvalidInput
from rapport.core.specs import FieldSpec, Kind

INHERIT = ""
ON, OFF = "on", "off"


class SpecFieldMixin:
    """Clean a form field through its spec instead of Django's own checks."""

    spec: FieldSpec
    nullable: bool

    def clean(self, value: Any) -> Any:
        try:
            return self.spec.parse(value, nullable=self.nullable)
        except InvalidInput as exc:
            raise forms.ValidationError(exc.message, code="invalid") from None


class SpecBooleanField(SpecFieldMixin, forms.BooleanField):
    pass


class SpecIntegerField(SpecFieldMixin, forms.IntegerField):
    pass


class SpecDecimalField(SpecFieldMixin, forms.DecimalField):
    pass


class SpecChoiceField(SpecFieldMixin, forms.ChoiceField):
    pass


class SpecCharField(SpecFieldMixin, forms.CharField):
    pass


class SpecEmailField(SpecFieldMixin, forms.EmailField):
    pass


class SpecDateField(SpecFieldMixin, forms.DateField):
    widget = forms.DateInput(attrs={"type": "date"})


class SpecTimeField(SpecFieldMixin, forms.TimeField):
    widget = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


def form_field(
    spec: FieldSpec,
    *,
    inherited: Any = None,
    override: bool = False,
    disabled: bool = False,
    widget: forms.Widget | None = None,
) -> forms.Field:
    """Return the form field of *spec*.

    With *override* (a channel's own value) the field may be left blank to inherit
    *inherited*, which it names.
    """
    options: dict[str, Any] = {
        "label": spec.label,
        "help_text": spec.help,
        "required": spec.required and not override and spec.kind != Kind.BOOL,
        "disabled": disabled,
    }
    if widget is not None:
        options["widget"] = widget
    if override and spec.kind not in (Kind.BOOL, Kind.CHOICE):
        shown = spec.show(inherited) or "(none)"
        options["help_text"] = f"{spec.help} Blank inherits the workspace's {shown}.".strip()
    if not override and spec.default is not None:
        options["initial"] = spec.default
    field: forms.Field
    match spec.kind:
        case Kind.BOOL if override:
            choices = [(INHERIT, f"Inherit ({ON if inherited else OFF})"), (ON, "On"), (OFF, "Off")]
            field = SpecChoiceField(choices=choices, **options)
        case Kind.BOOL:
            field = SpecBooleanField(**options)
        case Kind.INT:
            field = SpecIntegerField(
                min_value=None if spec.min is None else int(spec.min),
                max_value=None if spec.max is None else int(spec.max),
                **options,
            )
        case Kind.DECIMAL:
            field = SpecDecimalField(
                min_value=spec.min, max_value=spec.max, decimal_places=spec.places, **options
            )
        case Kind.CHOICE:
            first = [(INHERIT, f"Inherit ({inherited})")] if override else []
            if not override and not spec.required:
                first = [("", "—")]
            field = SpecChoiceField(choices=[*first, *spec.choices], **options)
        case Kind.EMAIL:
            field = SpecEmailField(max_length=spec.max_length, **options)
        case Kind.DATE:
            field = SpecDateField(**options)
        case Kind.TIME:
            field = SpecTimeField(**options)
        case _:
            field = SpecCharField(max_length=spec.max_length, **options)
    assert isinstance(field, SpecFieldMixin)
    field.spec, field.nullable = spec, override
    return field


def form_initial(spec: FieldSpec, value: Any, *, override: bool = False) -> Any:
    """Return a stored value as the form field of *spec* shows it."""
    if override and spec.kind == Kind.BOOL:
        return INHERIT if value is None else (ON if value else OFF)
    return "" if value is None and override else value


class SpecForm(forms.Form):
    """A form whose *declared* fields derive from their declarations.

    They are built per form, so a changed declaration shows in the next form; the
    form's *field_order* places them among the fields declared on the class.
    """

    declared: tuple[FieldSpec, ...] = ()
    widgets: dict[str, forms.Widget] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for spec in self.declared:
            self.fields[spec.name] = form_field(spec, widget=self.widgets.get(spec.name))
        self.order_fields(self.field_order)
