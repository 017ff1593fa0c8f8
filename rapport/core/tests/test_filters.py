"""The filter-set base: one declaration per parameter, for the page and for the API."""

from dataclasses import dataclass, field
from typing import Any, ClassVar

import pytest
from django.http import HttpRequest, QueryDict
from ninja import NinjaAPI, Query
from ninja.testing import TestClient

from rapport.core.errors import InvalidInput
from rapport.core.filters import FilterParam, FilterSet, PageQuery
from rapport.core.query_params import params_ids, params_words


def _owner(values: list[str], name: str) -> tuple[list[int], bool]:
    nobody = "none" in values
    return params_ids([v for v in values if v != "none"], name), nobody


def _sort(values: list[str], name: str) -> str:
    return (values or ["name"])[-1]


@dataclass
class ThingFilterSet(FilterSet):
    """Filters of things."""

    params: ClassVar[tuple[FilterParam, ...]] = (
        FilterParam("q", "q", params_words, max_length=20, description="Words."),
        FilterParam("owner", ("owners", "no_owner"), _owner, many=True, description="Owners."),
        FilterParam("sort", "sort", _sort, default="name", description="A column."),
    )
    extra_prefix = "tag."
    extra_help = "Filter by tag as `tag.<key>=value`."

    q: str = ""
    owners: list[int] = field(default_factory=list)
    no_owner: bool = False
    sort: str = "name"
    tags: dict[str, list[str]] = field(default_factory=dict)

    def extra_parse(self, extra: dict[str, list[str]]) -> None:
        self.tags = {name.removeprefix("tag."): values for name, values in extra.items()}

    def clean(self) -> None:
        if self.sort.startswith("tag.") and self.sort not in {f"tag.{t}" for t in self.tags}:
            raise InvalidInput("Sort by a tag you filter by.", field="sort")


@dataclass
class ColouredThingFilterSet(ThingFilterSet):
    """Filters of things, by colour too."""

    params = (
        *ThingFilterSet.params,
        FilterParam("colour", "colours", params_words, description="A colour."),
    )

    colours: str = ""


def _api(filter_set: type[FilterSet], name: str) -> NinjaAPI:
    """Return an API whose one endpoint lists things through *filter_set*'s own schema."""
    schema: Any = filter_set.query_schema(name, base=PageQuery)
    api = NinjaAPI(urls_namespace=f"test-{name}")

    @api.get("/things", description=filter_set.extra_help)
    def things(request: HttpRequest, query: Query[schema]) -> dict[str, Any]:
        filters = filter_set.from_schema(query, extra=request.GET)
        return {"filters": repr(filters), "limit": query.limit}

    return api


def _parameters(api: NinjaAPI) -> dict[str, Any]:
    operation = api.get_openapi_schema(path_prefix="")["paths"]["/things"]["get"]
    return {p["name"]: p for p in operation["parameters"]}


def test_a_query_string_parses_into_the_declared_attributes() -> None:
    filters = ThingFilterSet.from_params(QueryDict("q=big++red&owner=3&owner=none&owner=5"))
    assert (filters.q, filters.owners, filters.no_owner) == ("big red", [3, 5], True)


def test_the_api_schema_has_one_documented_field_per_parameter() -> None:
    schema = ThingFilterSet.query_schema("ThingFieldsQuery", base=PageQuery)
    fields = schema.model_fields
    assert set(fields) == {"q", "owner", "sort", "limit", "offset"}
    assert fields["owner"].description == "Owners."
    assert fields["sort"].default == "name"
    assert schema.__doc__ == "Filters of things."


def test_the_api_and_the_page_parse_alike() -> None:
    schema = ThingFilterSet.query_schema("ThingAlikeQuery")
    from_api = ThingFilterSet.from_schema(
        schema.model_validate({"q": " big  red ", "owner": ["3", "5"]})
    )
    assert from_api == ThingFilterSet.from_params(QueryDict("q=big+red&owner=3&owner=5"))
    with pytest.raises(InvalidInput, match="owner must be an id"):
        ThingFilterSet.from_schema(schema.model_validate({"owner": ["three"]}))


def test_a_parameter_added_to_the_declaration_reaches_the_openapi_and_the_page() -> None:
    plain = _parameters(_api(ThingFilterSet, "PlainThingQuery"))
    coloured = _parameters(_api(ColouredThingFilterSet, "ColouredThingQuery"))

    assert set(coloured) - set(plain) == {"colour"}
    assert coloured["colour"]["description"] == "A colour."
    assert ColouredThingFilterSet.from_params(QueryDict("colour=red")).colours == "red"


def test_the_api_endpoint_parses_declared_and_extra_parameters_like_the_page() -> None:
    client = TestClient(_api(ThingFilterSet, "ServedThingQuery"))
    query = "q=red&owner=4&tag.size=big&sort=tag.size&limit=5"

    answer = client.get(f"/things?{query}").json()

    assert answer == {"filters": repr(ThingFilterSet.from_params(QueryDict(query))), "limit": 5}
    assert "tags={'size': ['big']}" in answer["filters"]


def test_extra_parameters_are_documented_not_listed() -> None:
    api = _api(ThingFilterSet, "DocumentedThingQuery")
    operation = api.get_openapi_schema(path_prefix="")["paths"]["/things"]["get"]
    assert operation["description"] == "Filter by tag as `tag.<key>=value`."
    assert not any(name.startswith("tag.") for name in _parameters(api))


def test_the_schema_parses_extra_parameters_only_from_the_query_dict_given() -> None:
    schema = ThingFilterSet.query_schema("ThingExtraQuery")
    query = schema.model_validate({"q": "red"})
    assert ThingFilterSet.from_schema(query).tags == {}
    extra = QueryDict("tag.size=big&q=ignored")
    filters = ThingFilterSet.from_schema(query, extra=extra)
    assert (filters.q, filters.tags) == ("red", {"size": ["big"]})


def test_clean_checks_the_parameters_together_on_both_faces() -> None:
    with pytest.raises(InvalidInput, match="Sort by a tag"):
        ThingFilterSet.from_params(QueryDict("sort=tag.size"))
    schema = ThingFilterSet.query_schema("ThingCleanQuery")
    with pytest.raises(InvalidInput, match="Sort by a tag"):
        ThingFilterSet.from_schema(schema.model_validate({"sort": "tag.size"}))
    assert ThingFilterSet.from_params(QueryDict("sort=tag.size&tag.size=big")).sort == "tag.size"


def test_a_page_query_keeps_its_bounds() -> None:
    assert PageQuery.model_validate({}).limit == 50
    with pytest.raises(ValueError, match="limit"):
        PageQuery.model_validate({"limit": 201})
