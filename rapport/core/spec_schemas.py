"""Derive API schema fields (pydantic, for django-ninja) from field specs.

A checked field validates with the spec, so the API refuses a bad value with the
message the form and the service give (as a 422). A loose field leaves validation to
the service (a 400 naming the field) and only documents the spec in the OpenAPI schema.
"""

import datetime
from collections.abc import Iterable
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    Field,
    TypeAdapter,
    ValidatorFunctionWrapHandler,
    WithJsonSchema,
    create_model,
)
from pydantic import ValidationError as PydanticValidationError
from pydantic.functional_validators import WrapValidator
from pydantic_core import PydanticCustomError

from rapport.core.errors import InvalidInput
from rapport.core.specs import TEXT_KINDS, FieldSpec, Kind

# An (annotation, pydantic Field) pair, as `create_model` takes it.
Derived = tuple[Any, Any]

PYTHON_TYPES: dict[Kind, type] = {
    Kind.BOOL: bool,
    Kind.INT: int,
    Kind.DECIMAL: Decimal,
    Kind.DATE: datetime.date,
    # JSON has no time of day without an offset: the API takes and gives "HH:MM".
    Kind.TIME: str,
}


def _python_type(spec: FieldSpec) -> type:
    return PYTHON_TYPES.get(spec.kind, str)


def _constraints(spec: FieldSpec) -> dict[str, Any]:
    """Return the pydantic bounds of *spec*, which the OpenAPI schema shows."""
    bounds: dict[str, Any] = {}
    if spec.kind in (Kind.INT, Kind.DECIMAL):
        if spec.min is not None:
            bounds["ge"] = spec.min
        if spec.max is not None:
            bounds["le"] = spec.max
    if spec.kind == Kind.DECIMAL:
        bounds["allow_inf_nan"] = False
    if spec.max_length is not None and spec.kind not in (Kind.INT, Kind.DECIMAL):
        bounds["max_length"] = spec.max_length
    if spec.required and spec.kind in TEXT_KINDS:
        bounds["min_length"] = 1
    return bounds


def _spec_error(exc: InvalidInput) -> PydanticCustomError:
    return PydanticCustomError("invalid_value", "{message}", {"message": exc.message})


def _checker(spec: FieldSpec, *, passes_none: bool) -> WrapValidator:
    def check(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        if value is None and passes_none:
            return None
        try:
            typed = handler(value)
        except PydanticValidationError:
            # Say what the spec says about the raw value, as the form would.
            try:
                spec.validate(value)
            except InvalidInput as exc:
                raise _spec_error(exc) from None
            raise
        try:
            cleaned = spec.validate(typed)
        except InvalidInput as exc:
            raise _spec_error(exc) from None
        # A time stays "HH:MM" in the schema; the service cleans it again.
        return cleaned if isinstance(cleaned, _python_type(spec)) else typed

    return WrapValidator(check)


def schema_field(spec: FieldSpec, *, patch: bool = False) -> Derived:
    """Return (annotation, field) of *spec* as a checked input of the API.

    A *patch* field may be left out or null; the service decides what null means.
    """
    python_type = _python_type(spec)
    default: Any = ...
    if patch:
        default = None
    elif not spec.required:
        default = spec.empty() if spec.default is None else spec.default
    nullable = patch or (default is None and not spec.required)
    annotation: Any = python_type | None if nullable else python_type
    info = Field(default, description=spec.help or None, **_constraints(spec))
    return Annotated[annotation, _checker(spec, passes_none=nullable)], info


def loose_schema_field(spec: FieldSpec, *, nullable: bool = False) -> Derived:
    """Return (annotation, field) of *spec* as an input the service validates.

    The OpenAPI schema shows the spec's type and bounds; the endpoint takes any value,
    so the service answers a bad one with a 400 that names the field.
    """
    python_type = _python_type(spec)
    typed: Any = python_type | None if nullable else python_type
    shown = TypeAdapter(Annotated[typed, Field(**_constraints(spec))]).json_schema()
    if spec.kind == Kind.CHOICE:
        shown = {"enum": [*spec.choice_values(), *([None] if nullable else [])]}
    if spec.help:
        shown["description"] = spec.help
    return Annotated[Any, WithJsonSchema(shown)], Field(None)


def output_field(spec: FieldSpec, *, nullable: bool = False) -> Derived:
    """Return (annotation, field) of *spec* in an answer of the API."""
    python_type = _python_type(spec)
    annotation: Any = python_type | None if nullable else python_type
    return annotation, Field(..., description=spec.help or None)


def schema_model(
    name: str,
    module: str,
    fields: dict[str, Derived],
    *,
    base: type[BaseModel],
) -> Any:
    """Build the schema class *name* of *module* from derived fields.

    An app keeps it in a variable and subclasses that in a class statement, which gives
    the schema its OpenAPI name, docstring and configuration, and type checkers a class.
    """
    definitions: dict[str, Any] = dict(fields)
    return create_model(name, __base__=base, __module__=module, **definitions)


def specs_fields(specs: Iterable[FieldSpec], how: Any, **options: Any) -> dict[str, Derived]:
    """Return *how* (one of the functions above) applied to each of *specs*, by name."""
    return {spec.name: how(spec, **options) for spec in specs}
