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

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet

from rapport.core.errors import InvalidInput
from rapport.core.query_params import MAX_IDS, ParamSource, params_getter, params_ids, params_whole
from rapport.inbox.models import Source
from rapport.requests.models import Request, RequestStatus

UNASSIGNED = "unassigned"
ME = "me"


@dataclass
class RequestFilterSet:
    """Validated request filters; `filter` turns them into a queryset."""

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
    def from_params(
        cls, params: ParamSource | Mapping[str, Any], *, user_id: int | None = None
    ) -> "RequestFilterSet":
        """Parse query parameters; raise InvalidInput naming the first bad one.

        *user_id* is the member asking, whom `assignee=me` stands for.
        """
        get = params_getter(params)
        self = cls()
        self.q = " ".join(" ".join(get("q")).split())[:200]
        self.statuses = _choices(get("status"), RequestStatus.values, "status")
        self.accounts = params_ids(get("account"), "account")
        self.channels = params_ids(get("channel"), "channel")
        self.sources = _choices(get("source"), Source.values, "source")
        assignees = [v.strip() for v in get("assignee") if v.strip()]
        for raw in assignees:
            if raw == UNASSIGNED:
                self.unassigned = True
            elif raw == ME:
                if user_id is None:
                    raise InvalidInput("assignee=me needs a logged-in member.", field="assignee")
                self.me, self.me_id = True, user_id
            elif (number := params_whole(raw)) is not None:
                self.assignees.append(number)
            else:
                raise InvalidInput(
                    f"assignee must be a member id, 'unassigned' or 'me', not {raw!r}.",
                    field="assignee",
                )
        if len(self.assignees) > MAX_IDS:
            raise InvalidInput(f"Filter by at most {MAX_IDS} assignees.", field="assignee")
        return self

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


def _choices(values: list[str], allowed: list[str], name: str) -> list[str]:
    cleaned = [v.strip() for v in values if v.strip()]
    for value in cleaned:
        if value not in allowed:
            raise InvalidInput(
                f"{name} must be one of {', '.join(allowed)}, not {value!r}.", field=name
            )
    return cleaned
