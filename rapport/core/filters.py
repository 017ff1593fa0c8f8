"""The filter-set base: each query parameter declared once, for the page and for the API.

A filter set lists its parameters as `FilterParam`s. The page parses a query string with
`from_params`; the API takes the schema `query_schema` builds as `Query[...]` and parses
what ninja read with `from_schema`, so both faces accept and refuse the same input.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Self

from ninja import Schema
from pydantic import Field, create_model

from rapport.core.query_params import ParamSource, params_getter


@dataclass(frozen=True)
class FilterParam:
    """One query parameter: its name, the attribute it fills, how it parses, its API help.

    `parse(values, name)` gets every value given for the parameter and returns the
    attribute's value, or raises InvalidInput naming the parameter.
    """

    name: str
    attr: str
    parse: Callable[[list[str], str], Any]
    many: bool = False
    description: str = ""
    max_length: int | None = None


class FilterSet:
    """Base of the filter sets: parsing from a query string or from the API's schema."""

    params: ClassVar[tuple[FilterParam, ...]] = ()

    @classmethod
    def from_params(cls, params: ParamSource | Mapping[str, Any]) -> Self:
        """Parse query parameters; raise InvalidInput naming the first bad one."""
        get = params_getter(params)
        self = cls()
        for param in cls.params:
            setattr(self, param.attr, param.parse(get(param.name), param.name))
        return self

    @classmethod
    def from_schema(cls, query: Schema) -> Self:
        """Parse the filters of a schema built by `query_schema`, as ninja read them."""
        return cls.from_params(query.model_dump(include={p.name for p in cls.params}))

    @classmethod
    def query_schema(cls, name: str, *, base: type[Schema] = Schema) -> type[Schema]:
        """Return the API's query schema: every parameter as text, documented; *base* adds more.

        Values stay text, as in a query string, so the API refuses a bad value with the
        same InvalidInput (400) as the page, from `from_schema`.
        """
        fields: dict[str, tuple[Any, Any]] = {}
        for param in cls.params:
            help_text = param.description or None
            if param.many:
                fields[param.name] = (list[str], Field(default_factory=list, description=help_text))
            elif param.max_length is not None:
                fields[param.name] = (
                    str,
                    Field("", max_length=param.max_length, description=help_text),
                )
            else:
                fields[param.name] = (str | None, Field(None, description=help_text))
        fields_typed: dict[str, Any] = fields
        return create_model(name, __base__=base, __doc__=cls.__doc__, **fields_typed)


class PageQuery(Schema):
    """The API's page of a list: at most `limit` rows from row `offset`."""

    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=10_000_000)
