"""The conversation filter set, shared by the inbox page and the conversations API.

Parameters (all optional; the repeatable ones may be given several times):
  q          words matched against the requester's email and name and the subject
  account    account id (repeatable)
  source     slack | email | web_chat | api (repeatable)
  channel    Slack channel id in Rapport (repeatable)
  outcome    linked | created | conflict | unmatched (repeatable)
  unlinked   yes: only conversations without an account
"""

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet

from rapport.core.errors import InvalidInput
from rapport.core.filters import FilterParam, FilterSet
from rapport.core.query_params import params_ids, params_yes_no
from rapport.inbox.models import Conversation, Source
from rapport.mapping.models import MappingOutcome


def _choices(values: list[str], allowed: list[str], name: str) -> list[str]:
    cleaned: list[str] = []
    for value in (v.strip() for v in values if v.strip()):
        if value not in allowed:
            raise InvalidInput(
                f"{name} must be one of {', '.join(allowed)}, not {value!r}.", field=name
            )
        if value not in cleaned:
            cleaned.append(value)
    return cleaned


def _yes(values: list[str], name: str) -> bool:
    """Parse yes or no; blank is no."""
    return params_yes_no(values, name) or False


def _words(values: list[str], name: str) -> str:
    return " ".join(" ".join(values).split())[:200]


def _source(values: list[str], name: str) -> list[str]:
    return _choices(values, Source.values, name)


def _outcome(values: list[str], name: str) -> list[str]:
    return _choices(values, MappingOutcome.values, name)


@dataclass
class ConversationFilterSet(FilterSet):
    """Validated inbox filters; `filter` turns them into a queryset."""

    params = (
        FilterParam(
            "q",
            "q",
            _words,
            max_length=200,
            description="Words in the requester's email or subject.",
        ),
        FilterParam("account", "accounts", params_ids, many=True, description="Account ids."),
        FilterParam(
            "channel",
            "channels",
            params_ids,
            many=True,
            description="Slack channel ids (Rapport's).",
        ),
        FilterParam(
            "source", "sources", _source, many=True, description="slack, email, web_chat or api."
        ),
        FilterParam(
            "outcome",
            "outcomes",
            _outcome,
            many=True,
            description="linked, created, conflict or unmatched.",
        ),
        FilterParam(
            "unlinked", "unlinked", _yes, description="yes: only conversations without an account."
        ),
    )

    q: str = ""
    accounts: list[int] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    channels: list[int] = field(default_factory=list)
    outcomes: list[str] = field(default_factory=list)
    unlinked: bool = False

    @property
    def is_filtered(self) -> bool:
        return bool(
            self.q
            or self.accounts
            or self.sources
            or self.channels
            or self.outcomes
            or self.unlinked
        )

    def filter(self, queryset: QuerySet[Conversation]) -> QuerySet[Conversation]:
        """Return *queryset* narrowed to the conversations that match every filter."""
        for term in self.q.split():
            queryset = queryset.filter(
                Q(requester_email__icontains=term)
                | Q(requester_name__icontains=term)
                | Q(subject__icontains=term)
            )
        if self.accounts:
            queryset = queryset.filter(account_id__in=self.accounts)
        if self.unlinked:
            queryset = queryset.filter(account__isnull=True)
        if self.sources:
            queryset = queryset.filter(source__in=self.sources)
        if self.channels:
            queryset = queryset.filter(channel_id__in=self.channels)
        if self.outcomes:
            queryset = queryset.filter(mapping_outcome__in=self.outcomes)
        return queryset

    def as_query(self) -> dict[str, Any]:
        """Return the filters as they appear in a shareable URL."""
        query: dict[str, Any] = {}
        if self.q:
            query["q"] = self.q
        for key, values in (
            ("account", [str(a) for a in self.accounts]),
            ("source", self.sources),
            ("channel", [str(c) for c in self.channels]),
            ("outcome", self.outcomes),
        ):
            if values:
                query[key] = values
        if self.unlinked:
            query["unlinked"] = "yes"
        return query
