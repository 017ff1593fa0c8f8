"""The request filter set, shared by the board, the queue and the requests API.

Parameters (all optional; the repeatable ones may be given several times):
  q          words matched against the request's title, requester name and email
  status     open | waiting | pending | closed (repeatable; the board shows every state
             in its own column and ignores it)
  account    account id (repeatable)
  assignee   member id, "unassigned", or "me" for the member asking (repeatable)
  channel    Slack channel id in Rapport (repeatable)
  source     slack | email | web_chat | api (repeatable)

A single value of a filter is compared with "=", so the database walks the matching
index (`request_assignee_idx`, `request_account_idx`, ...) in the board's order.
"""

from dataclasses import dataclass, field
from typing import Any, Self

from django.db.models import Q, QuerySet
from ninja import Schema

from rapport.core.errors import InvalidInput
from rapport.core.filters import FilterParam, FilterSet, Params
from rapport.core.query_params import (
    MAX_IDS,
    params_choices,
    params_ids,
    params_whole,
    params_words,
)
from rapport.inbox.models import Source
from rapport.requests.models import Request, RequestStatus

UNASSIGNED = "unassigned"
ME = "me"


def _assignee(values: list[str], name: str) -> tuple[list[int], bool, bool]:
    """Split the assignee values into member ids, "unassigned" and "me"."""
    ids: list[int] = []
    unassigned = me = False
    for raw in (v.strip() for v in values if v.strip()):
        number = params_whole(raw)
        if raw == UNASSIGNED:
            unassigned = True
        elif raw == ME:
            me = True
        elif number is not None:
            ids.append(number)
        else:
            raise InvalidInput(
                f"{name} must be a member id, 'unassigned' or 'me', not {raw!r}.", field=name
            )
    if len(ids) > MAX_IDS:
        raise InvalidInput(f"Filter by at most {MAX_IDS} assignees.", field=name)
    return ids, unassigned, me


@dataclass
class RequestFilterSet(FilterSet):
    """Filters shared with the board; repeat a parameter to match any of its values."""

    params = (
        FilterParam(
            "q",
            "q",
            params_words,
            max_length=200,
            description="Words in the title or the requester.",
        ),
        FilterParam(
            "status",
            "statuses",
            params_choices(RequestStatus.values),
            many=True,
            description="open, waiting, pending, closed.",
        ),
        FilterParam("account", "accounts", params_ids, many=True, description="Account id."),
        FilterParam(
            "assignee",
            ("assignees", "unassigned", "me"),
            _assignee,
            many=True,
            description="Member id, 'me' or 'unassigned'.",
        ),
        FilterParam(
            "channel",
            "channels",
            params_ids,
            many=True,
            description="Slack channel id in Rapport.",
        ),
        FilterParam(
            "source",
            "sources",
            params_choices(Source.values),
            many=True,
            description="slack, email, web_chat, api.",
        ),
    )

    q: str = ""
    statuses: list[str] = field(default_factory=list)
    accounts: list[int] = field(default_factory=list)
    assignees: list[int] = field(default_factory=list)
    unassigned: bool = False
    me: bool = False
    me_id: int | None = None
    channels: list[int] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    @classmethod
    def from_params(cls, params: Params, *, user_id: int | None = None) -> Self:
        """Parse query parameters; raise InvalidInput naming the first bad one.

        *user_id* is the member asking, whom `assignee=me` stands for.
        """
        return cls(me_id=user_id).parse(params)

    @classmethod
    def from_schema(
        cls, query: Schema, *, extra: Params | None = None, user_id: int | None = None
    ) -> Self:
        """Parse the filters ninja read into the API's schema; *user_id* as in `from_params`."""
        return cls(me_id=user_id).parse(cls.schema_params(query, extra=extra))

    def clean(self) -> None:
        """Refuse `assignee=me` without a member asking; forget the member otherwise."""
        if not self.me:
            self.me_id = None
        elif self.me_id is None:
            raise InvalidInput("assignee=me needs a logged-in member.", field="assignee")

    @property
    def is_filtered(self) -> bool:
        return bool(
            self.q
            or self.statuses
            or self.accounts
            or self.assignees
            or self.unassigned
            or self.me
            or self.channels
            or self.sources
        )

    @property
    def assignee_ids(self) -> list[int]:
        """The member ids asked for, with the asking member's for `me`."""
        ids = list(self.assignees)
        if self.me and self.me_id is not None and self.me_id not in ids:
            ids.append(self.me_id)
        return ids

    def filter(self, queryset: QuerySet[Request], *, status: bool = True) -> QuerySet[Request]:
        """Return *queryset* narrowed to the requests that match every filter.

        With `status=False` the state filter is left out (the board's columns are states).
        """
        for term in self.q.split():
            queryset = queryset.filter(
                Q(title__icontains=term)
                | Q(requester_name__icontains=term)
                | Q(requester_email__icontains=term)
            )
        if status and self.statuses:
            queryset = _one_or_many(queryset, "status", self.statuses)
        if self.accounts:
            queryset = _one_or_many(queryset, "account_id", self.accounts)
        ids = self.assignee_ids
        if ids and self.unassigned:
            queryset = queryset.filter(Q(assignee_id__in=ids) | Q(assignee__isnull=True))
        elif ids:
            queryset = _one_or_many(queryset, "assignee_id", ids)
        elif self.unassigned:
            queryset = queryset.filter(assignee__isnull=True)
        if self.channels:
            queryset = _one_or_many(queryset, "channel_id", self.channels)
        if self.sources:
            queryset = _one_or_many(queryset, "source", self.sources)
        return queryset

    def as_query(self) -> dict[str, Any]:
        """Return the filters as they appear in a shareable URL."""
        query: dict[str, Any] = {}
        if self.q:
            query["q"] = self.q
        assignees = [str(a) for a in self.assignees]
        assignees += [ME] if self.me else []
        assignees += [UNASSIGNED] if self.unassigned else []
        for key, values in (
            ("status", self.statuses),
            ("account", [str(a) for a in self.accounts]),
            ("assignee", assignees),
            ("channel", [str(c) for c in self.channels]),
            ("source", self.sources),
        ):
            if values:
                query[key] = values
        return query


def _one_or_many(queryset: QuerySet[Request], name: str, values: list[Any]) -> QuerySet[Request]:
    if len(values) == 1:
        return queryset.filter(**{name: values[0]})
    return queryset.filter(**{f"{name}__in": values})
