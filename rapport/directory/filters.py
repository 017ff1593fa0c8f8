"""The account filter set, shared by the directory page and the accounts API.

Parameters (all optional, repeatable where it makes sense):
  q                        words matched against name, domains, contact emails, CRM company
  owner                    user id, or "none" for accounts without an owner
  status, source, industry Rapport metadata
  crm_status               not_mapped | mapped | synced | failing
  has_channel              yes | no
  arr_min, arr_max         annual revenue range
  field.<key>              value of an extra field (CRM or Rapport); exact match
  field.<key>.min / .max   range on a number or date field
  has_open_requests        yes | no
  open_requests_min        at least this many open requests
  csat_below               average CSAT below this score (accounts with ratings)
  has_sla_breaches         yes | no (response or resolution)
  last_request_after       last request on or after this date (YYYY-MM-DD)
  last_request_before      last request before this date
  sort                     a column key, "-" in front for descending
"""

import datetime
import operator
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import reduce
from typing import Any, Self

from django.db import connections
from django.db.models import (
    BigIntegerField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.expressions import OrderBy
from django.db.models.functions import Lower
from django.db.models.lookups import In
from django.utils import timezone
from ninja import Schema

from rapport.accounts.fields import VALUE_COLUMN, field_parse
from rapport.accounts.models import (
    Account,
    AccountSource,
    AccountStatus,
    CrmSyncStatus,
    FieldDefinition,
    FieldType,
    FieldValue,
)
from rapport.core.errors import InvalidInput
from rapport.core.filters import FilterParam, FilterSet, Params
from rapport.core.query_params import (
    params_choices,
    params_count,
    params_date,
    params_decimal,
    params_texts,
    params_whole,
    params_words,
    params_yes_no,
)

SORTS: dict[str, Any] = {
    "name": Lower("name"),
    "contacts": F("contact_count"),
    "primary_domain": F("primary_domain"),
    "owner": Lower("owner__name"),
    "crm_company": F("crm_company_name"),
    "crm_status": F("crm_sync_status"),
    "crm_id": F("crm_external_id"),
    "crm_last_synced": F("crm_last_synced_at"),
    "status": F("status"),
    "source": F("source"),
    "industry": F("industry"),
    "employee_count": F("employee_count"),
    "arr": F("arr"),
    "close_date": F("close_date"),
    "created": F("created_at"),
    "tier": F("tier"),
}
# The request figures, precomputed per account (rapport.metrics) and joined by primary key.
METRIC_SORTS: dict[str, Any] = {
    "requests_open": F("request_metrics__open_count"),
    "requests_total": F("request_metrics__total_count"),
    "requests_last": F("request_metrics__last_request_at"),
    "requests_first_response": F("request_metrics__avg_first_response_seconds"),
    "requests_resolution": F("request_metrics__avg_resolution_seconds"),
    "requests_csat": F("request_metrics__avg_csat"),
    "sla_breaches": F("request_metrics__breach_count"),
}
SORTS |= METRIC_SORTS
# Figures that are never NULL on a metrics row: sorted without NULLS LAST, so the index
# serves both directions.
METRIC_COUNTS = {"requests_open", "requests_total", "sla_breaches"}
FIELD_PREFIX = "field."


@dataclass
class FieldFilter:
    """One extra field's filter: values matched exactly, and a range for numbers and dates."""

    definition: FieldDefinition
    values: list[Any] = field(default_factory=list)
    minimum: Any = None
    maximum: Any = None


def _owner(values: list[str], name: str) -> tuple[list[int], bool]:
    """Split the owner values into user ids and "none"."""
    owners: list[int] = []
    no_owner = False
    for raw in (v.strip() for v in values if v.strip()):
        number = params_whole(raw)
        if raw == "none":
            no_owner = True
        elif number is not None:
            owners.append(number)
        else:
            raise InvalidInput(f"{name} must be a user id or 'none', not {raw!r}.", field=name)
    return owners, no_owner


def _sort(values: list[str], name: str) -> tuple[str, bool]:
    """Split the sort into its column key and its direction; `clean` checks the key."""
    sort = (values or ["name"])[-1].strip() or "name"
    return sort.lstrip("-"), sort.startswith("-")


@dataclass
class AccountFilterSet(FilterSet):
    """Filters and sort shared by the directory page and the API, `field.<key>` ones too."""

    params = (
        FilterParam(
            "q",
            "q",
            params_words,
            max_length=200,
            description="Name, domain, contact email or CRM company.",
        ),
        FilterParam(
            "owner", ("owners", "no_owner"), _owner, many=True, description="User id, or 'none'."
        ),
        FilterParam("status", "statuses", params_choices(AccountStatus.values), many=True),
        FilterParam("source", "sources", params_choices(AccountSource.values), many=True),
        FilterParam("industry", "industries", params_texts, many=True),
        FilterParam(
            "crm_status",
            "crm_statuses",
            params_choices(CrmSyncStatus.values),
            many=True,
            description="not_mapped, mapped (not synced yet), synced or failing.",
        ),
        FilterParam("has_channel", "has_channel", params_yes_no, description="yes or no."),
        FilterParam("arr_min", "arr_min", params_decimal, description="Annual revenue from."),
        FilterParam("arr_max", "arr_max", params_decimal, description="Annual revenue up to."),
        FilterParam(
            "has_open_requests", "has_open_requests", params_yes_no, description="yes or no."
        ),
        FilterParam(
            "open_requests_min",
            "open_requests_min",
            params_count,
            description="At least this many open requests.",
        ),
        FilterParam(
            "csat_below", "csat_below", params_decimal, description="Average CSAT below this score."
        ),
        FilterParam(
            "has_sla_breaches", "has_sla_breaches", params_yes_no, description="yes or no."
        ),
        FilterParam(
            "last_request_after",
            "last_request_after",
            params_date,
            description="On or after this date.",
        ),
        FilterParam(
            "last_request_before",
            "last_request_before",
            params_date,
            description="Before this date.",
        ),
        FilterParam(
            "sort",
            ("sort", "descending"),
            _sort,
            default="name",
            description="A column key; prefix '-' to sort descending.",
        ),
    )
    extra_prefix = FIELD_PREFIX
    extra_help = (
        "Extra fields (CRM or Rapport) filter as `field.<key>=value` (exact match, "
        "repeatable), and number and date fields as `field.<key>.min` / `field.<key>.max` "
        "too; sort by one with `sort=field.<key>`. An unknown key answers 400."
    )

    q: str = ""
    owners: list[int] = field(default_factory=list)
    no_owner: bool = False
    statuses: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    industries: list[str] = field(default_factory=list)
    crm_statuses: list[str] = field(default_factory=list)
    has_channel: bool | None = None
    arr_min: Decimal | None = None
    arr_max: Decimal | None = None
    field_filters: list[FieldFilter] = field(default_factory=list)
    has_open_requests: bool | None = None
    open_requests_min: int | None = None
    csat_below: Decimal | None = None
    has_sla_breaches: bool | None = None
    last_request_after: datetime.date | None = None
    last_request_before: datetime.date | None = None
    sort: str = "name"
    descending: bool = False
    fields_by_key: dict[str, FieldDefinition] = field(default_factory=dict, repr=False)

    @classmethod
    def from_params(cls, params: Params, fields: Sequence[FieldDefinition] = ()) -> Self:
        """Parse query parameters, `field.<key>` ones against *fields*; raise InvalidInput
        naming the first bad one."""
        return cls(fields_by_key={f.key: f for f in fields}).parse(params)

    @classmethod
    def from_schema(
        cls,
        query: Schema,
        fields: Sequence[FieldDefinition] = (),
        *,
        extra: Params | None = None,
    ) -> Self:
        """Parse the filters ninja read, and the `field.<key>` ones from *extra*."""
        return cls(fields_by_key={f.key: f for f in fields}).parse(
            cls.schema_params(query, extra=extra)
        )

    def extra_parse(self, extra: dict[str, list[str]]) -> None:
        """Parse the `field.<key>` filters (`.min` / `.max` on number and date fields)."""
        grouped: dict[str, FieldFilter] = {}
        for name, given in extra.items():
            key, _, bound = name[len(FIELD_PREFIX) :].partition(".")
            definition = self.fields_by_key.get(key)
            if definition is None:
                raise InvalidInput(f"Unknown field {key!r} in filter {name!r}.", field=name)
            values = [v for v in given if v.strip()]
            if not values:
                continue
            flt = grouped.setdefault(key, FieldFilter(definition))
            if bound in ("min", "max"):
                if definition.type not in (FieldType.NUMBER, FieldType.DATE):
                    raise InvalidInput(
                        f"{definition.label} is not a number or date field; {name} cannot be used.",
                        field=name,
                    )
                setattr(
                    flt,
                    "minimum" if bound == "min" else "maximum",
                    field_parse(definition, values[-1]),
                )
            elif bound:
                raise InvalidInput(f"Unknown filter {name!r}.", field=name)
            else:
                flt.values.extend(field_parse(definition, v) for v in values)
        self.field_filters = list(grouped.values())

    def clean(self) -> None:
        """Refuse a sort that is no column: a known key, the channel, or an extra field."""
        if (
            self.sort not in SORTS
            and self.sort != "slack_channel"
            and not (
                self.sort.startswith(FIELD_PREFIX)
                and self.sort[len(FIELD_PREFIX) :] in self.fields_by_key
            )
        ):
            raise InvalidInput(f"Cannot sort by {self.sort!r}.", field="sort")

    @property
    def is_filtered(self) -> bool:
        return bool(
            self.q
            or self.owners
            or self.no_owner
            or self.statuses
            or self.sources
            or self.industries
            or self.crm_statuses
            or self.has_channel is not None
            or self.arr_min is not None
            or self.arr_max is not None
            or self.field_filters
            or self.has_open_requests is not None
            or self.open_requests_min is not None
            or self.csat_below is not None
            or self.has_sla_breaches is not None
            or self.last_request_after is not None
            or self.last_request_before is not None
        )

    def filter(self, queryset: QuerySet[Account]) -> QuerySet[Account]:
        """Return *queryset* narrowed to the accounts that match every filter."""
        for term in self.q.lower().split():
            queryset = queryset.filter(search_text__contains=term)
        owner_matches = [Q(owner_id__in=self.owners)] if self.owners else []
        if self.no_owner:
            owner_matches.append(Q(owner__isnull=True))
        if owner_matches:
            queryset = queryset.filter(reduce(operator.or_, owner_matches))
        if self.statuses:
            queryset = queryset.filter(status__in=self.statuses)
        if self.sources:
            queryset = queryset.filter(source__in=self.sources)
        if self.industries:
            queryset = queryset.filter(industry__in=self.industries)
        if self.crm_statuses:
            queryset = queryset.filter(crm_sync_status__in=self.crm_statuses)
        if self.has_channel is not None:
            from rapport.inbox.models import ChannelAccount

            linked = ChannelAccount.objects.values("account_id")
            queryset = _with_ids(queryset, linked, negate=not self.has_channel)
        if self.arr_min is not None:
            queryset = queryset.filter(arr__gte=self.arr_min)
        if self.arr_max is not None:
            queryset = queryset.filter(arr__lte=self.arr_max)
        for flt in self.field_filters:
            column = VALUE_COLUMN[FieldType(flt.definition.type)]
            matches = FieldValue.objects.filter(field=flt.definition)
            if flt.values:
                matches = matches.filter(**{f"{column}__in": flt.values})
            if flt.minimum is not None:
                matches = matches.filter(**{f"{column}__gte": flt.minimum})
            if flt.maximum is not None:
                matches = matches.filter(**{f"{column}__lte": flt.maximum})
            queryset = _with_ids(queryset, matches.values("account_id"))
        return self._filter_requests(queryset)

    def _filter_requests(self, queryset: QuerySet[Account]) -> QuerySet[Account]:
        """Narrow on the precomputed request figures; an account without a row has none."""
        none_yet = Q(request_metrics__isnull=True)
        if self.has_open_requests is True:
            queryset = queryset.filter(request_metrics__open_count__gt=0)
        elif self.has_open_requests is False:
            queryset = queryset.filter(none_yet | Q(request_metrics__open_count=0))
        if self.open_requests_min:
            queryset = queryset.filter(request_metrics__open_count__gte=self.open_requests_min)
        if self.csat_below is not None:
            queryset = queryset.filter(request_metrics__avg_csat__lt=float(self.csat_below))
        if self.has_sla_breaches is True:
            queryset = queryset.filter(request_metrics__breach_count__gt=0)
        elif self.has_sla_breaches is False:
            queryset = queryset.filter(none_yet | Q(request_metrics__breach_count=0))
        if self.last_request_after is not None:
            queryset = queryset.filter(
                request_metrics__last_request_at__gte=_day_start(self.last_request_after)
            )
        if self.last_request_before is not None:
            queryset = queryset.filter(
                request_metrics__last_request_at__lt=_day_start(self.last_request_before)
            )
        return queryset

    def order(self, queryset: QuerySet[Account]) -> QuerySet[Account]:
        """Return *queryset* in the picked order, ties broken by id so pages are stable."""
        expression: Any
        if self.sort == "slack_channel":
            from rapport.inbox.models import Channel

            expression = Subquery(
                Channel.objects.filter(accounts=OuterRef("pk")).order_by("name").values("name")[:1]
            )
        elif self.sort.startswith("field."):
            definition = self.fields_by_key[self.sort[len("field.") :]]
            expression = Subquery(
                FieldValue.objects.filter(account=OuterRef("pk"), field=definition).values(
                    VALUE_COLUMN[FieldType(definition.type)]
                )[:1]
            )
        else:
            expression = SORTS[self.sort]
        ordering = OrderBy(expression, descending=self.descending, nulls_last=True)
        tie = "-id" if self.descending else "id"
        if self.sort in METRIC_SORTS:
            # The metrics row's key is the account's id; naming it lets the planner read
            # the index (figure, account) in order for both terms. Accounts without a
            # row sort last (see selectors.account_page, which reads them apart).
            if self.sort in METRIC_COUNTS:
                ordering = OrderBy(expression, descending=self.descending)
            tie = (
                "-request_metrics__account_id" if self.descending else "request_metrics__account_id"
            )
        return queryset.order_by(ordering, tie)

    def as_query(self) -> dict[str, Any]:
        """Return the filters as they appear in a shareable URL."""
        query: dict[str, Any] = {}
        if self.q:
            query["q"] = self.q
        owners = [str(o) for o in self.owners] + (["none"] if self.no_owner else [])
        for key, values in (
            ("owner", owners),
            ("status", self.statuses),
            ("source", self.sources),
            ("industry", self.industries),
            ("crm_status", self.crm_statuses),
        ):
            if values:
                query[key] = values
        if self.has_channel is not None:
            query["has_channel"] = "yes" if self.has_channel else "no"
        if self.arr_min is not None:
            query["arr_min"] = str(self.arr_min)
        if self.arr_max is not None:
            query["arr_max"] = str(self.arr_max)
        for key, flag in (
            ("has_open_requests", self.has_open_requests),
            ("has_sla_breaches", self.has_sla_breaches),
        ):
            if flag is not None:
                query[key] = "yes" if flag else "no"
        if self.open_requests_min is not None:
            query["open_requests_min"] = str(self.open_requests_min)
        if self.csat_below is not None:
            query["csat_below"] = str(self.csat_below)
        if self.last_request_after is not None:
            query["last_request_after"] = self.last_request_after.isoformat()
        if self.last_request_before is not None:
            query["last_request_before"] = self.last_request_before.isoformat()
        for flt in self.field_filters:
            name = f"field.{flt.definition.key}"
            if flt.values:
                query[name] = [_as_text(v) for v in flt.values]
            if flt.minimum is not None:
                query[f"{name}.min"] = _as_text(flt.minimum)
            if flt.maximum is not None:
                query[f"{name}.max"] = _as_text(flt.maximum)
        return query

    @property
    def sort_param(self) -> str:
        return f"-{self.sort}" if self.descending else self.sort


def _with_ids(
    queryset: QuerySet[Account], ids: QuerySet[Any], *, negate: bool = False
) -> QuerySet[Account]:
    """Keep the accounts whose id the subquery *ids* returns (or, negated, the others).

    On SQLite the id is compared as `id + 0`. SQLite has no estimate of how many ids a
    subquery returns and plans a plain `id IN (subquery)` as one index probe per returned
    id, through an index another filter also uses (owner, CRM status): tens of thousands
    of probes for a common field value. Against `id + 0` it builds the list once and tests
    each candidate row, while another filter's index, or the sort's, drives the scan.
    PostgreSQL plans both forms from its statistics and keeps the plain one.
    """
    condition: Any = Q(pk__in=ids)
    if connections[queryset.db].vendor == "sqlite":
        condition = In(ExpressionWrapper(F("pk") + 0, output_field=BigIntegerField()), ids)
    return queryset.exclude(condition) if negate else queryset.filter(condition)


def _as_text(value: Any) -> str:
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def _day_start(day: datetime.date) -> datetime.datetime:
    """Return the first instant of *day* in the current time zone."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time()))
