"""The filter-set base: one declaration per parameter, for the page and for the API."""

from dataclasses import dataclass, field

import pytest
from django.http import QueryDict

from rapport.core.errors import InvalidInput
from rapport.core.filters import FilterParam, FilterSet, PageQuery
from rapport.core.query_params import params_ids


def _words(values: list[str], name: str) -> str:
    return " ".join(" ".join(values).split())


@dataclass
class ThingFilterSet(FilterSet):
    """Filters of things."""

    params = (
        FilterParam("q", "q", _words, max_length=20, description="Words."),
        FilterParam("owner", "owners", params_ids, many=True, description="Owner ids."),
    )

    q: str = ""
    owners: list[int] = field(default_factory=list)


def test_a_query_string_parses_into_the_declared_attributes() -> None:
    filters = ThingFilterSet.from_params(QueryDict("q=big++red&owner=3&owner=5"))
    assert (filters.q, filters.owners) == ("big red", [3, 5])


def test_the_api_schema_has_one_documented_field_per_parameter() -> None:
    schema = ThingFilterSet.query_schema("ThingListQuery", base=PageQuery)
    fields = schema.model_fields
    assert set(fields) == {"q", "owner", "limit", "offset"}
    assert fields["owner"].description == "Owner ids."
    assert schema.__doc__ == "Filters of things."


def test_the_api_and_the_page_parse_alike() -> None:
    schema = ThingFilterSet.query_schema("ThingListQuery")
    from_api = ThingFilterSet.from_schema(
        schema.model_validate({"q": " big  red ", "owner": ["3", "5"]})
    )
    assert from_api == ThingFilterSet.from_params(QueryDict("q=big+red&owner=3&owner=5"))
    with pytest.raises(InvalidInput, match="owner must be an id"):
        ThingFilterSet.from_schema(schema.model_validate({"owner": ["three"]}))
