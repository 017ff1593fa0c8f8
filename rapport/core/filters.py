"""The filter-set base: each query parameter declared once, for the page and for the API.

A filter set lists its parameters as `FilterParam`s. The page parses a query string with
`from_params`; the API takes the schema `query_schema` builds as `Query[...]` and parses
what ninja read with `from_schema`, so both faces accept and refuse the same input.

Parameters whose names a schema cannot list (a filter per extra field, `field.<key>`)
start with the filter set's `extra_prefix`: the page parses them from its query string,
the API from the `extra` query dict it passes to `from_schema`, both through `extra_parse`,
and `extra_help` documents them in the API's description.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Self

from ninja import Schema
from pydantic import Field, create_model

from rapport.core.query_params import ParamSource, params_getter

Params = ParamSource | Mapping[str, Any]


@dataclass(frozen=True)
class FilterParam:
    """One query parameter: its name, the attribute it fills, how it parses, its API help.

    `parse(values, name)` gets every value given for the parameter and returns the
    attribute's value, or raises InvalidInput naming the parameter. A parameter that fills
    several attributes names them all in `attr` and its parser returns a tuple in that
    order. `default` is the schema's default for a single-valued parameter.
    """

    name: str
    attr: str | tuple[str, ...]
    parse: Callable[[list[str], str], Any]
    many: bool = False
    description: str = ""
    max_length: int | None = None
    default: str | None = None


class FilterSet:
    """Base of the filter sets: parsing from a query string or from the API's schema."""

    params: ClassVar[tuple[FilterParam, ...]] = ()
    extra_prefix: ClassVar[str] = ""
    extra_help: ClassVar[str] = ""

    @classmethod
    def from_params(cls, params: Params) -> Self:
        """Parse query parameters; raise InvalidInput naming the first bad one."""
        return cls().parse(params)

    @classmethod
    def from_schema(cls, query: Schema, *, extra: Params | None = None) -> Self:
        """Parse the filters of a schema built by `query_schema`, as ninja read them.

        *extra* is the request's query dict, read only for the parameters under
        `extra_prefix`, which the schema cannot declare.
        """
        return cls().parse(cls.schema_params(query, extra=extra))

    @classmethod
    def schema_params(cls, query: Schema, *, extra: Params | None = None) -> dict[str, Any]:
        """Return the parameters of *query*, with those under `extra_prefix` from *extra*."""
        params: dict[str, Any] = query.model_dump(include={p.name for p in cls.params})
        if cls.extra_prefix and extra is not None:
            get = params_getter(extra)
            params |= {name: get(name) for name in cls.extra_names(extra)}
        return params

    @classmethod
    def extra_names(cls, params: Params) -> list[str]:
        """Return the names in *params* under `extra_prefix` (none without a prefix)."""
        if not cls.extra_prefix:
            return []
        names: Iterable[Any] = params.keys()
        return [str(n) for n in names if str(n).startswith(cls.extra_prefix)]

    def parse(self, params: Params) -> Self:
        """Fill this filter set from *params*: the declared ones, the extra ones, then `clean`."""
        get = params_getter(params)
        for param in self.params:
            value = param.parse(get(param.name), param.name)
            if isinstance(param.attr, str):
                setattr(self, param.attr, value)
            else:
                for attr, part in zip(param.attr, value, strict=True):
                    setattr(self, attr, part)
        extra = {name: get(name) for name in self.extra_names(params)}
        if extra:
            self.extra_parse(extra)
        self.clean()
        return self

    def extra_parse(self, extra: dict[str, list[str]]) -> None:
        """Parse the parameters under `extra_prefix`; a filter set with a prefix overrides this."""

    def clean(self) -> None:
        """Check the parsed values together (a parameter that needs another); raise InvalidInput."""

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
            elif param.max_length is not None or param.default is not None:
                fields[param.name] = (
                    str,
                    Field(param.default or "", max_length=param.max_length, description=help_text),
                )
            else:
                fields[param.name] = (str | None, Field(None, description=help_text))
        fields_typed: dict[str, Any] = fields
        return create_model(
            name,
            __base__=base,
            __doc__=cls.__doc__,
            __module__=cls.__module__,
            **fields_typed,
        )


class PageQuery(Schema):
    """The API's page of a list: at most `limit` rows from row `offset`."""

    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=10_000_000)
