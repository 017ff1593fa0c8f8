"""The filter set of the deliveries page: outside calls by state and by action.

Parameters (optional, repeatable):
  state   queued | retrying | failed (none: every call not sent yet)
  action  a registered outbox action, e.g. message.deliver or slack.reaction
"""

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet

from rapport.core.errors import InvalidInput
from rapport.core.filters import FilterParam, FilterSet
from rapport.core.query_params import params_choices, params_texts
from rapport.outbox.handlers import HANDLERS
from rapport.outbox.models import DeliveryState, OutboxItem, OutboxStatus

STATES = (DeliveryState.QUEUED, DeliveryState.RETRYING, DeliveryState.FAILED)
_STATE_Q = {
    DeliveryState.QUEUED: Q(status=OutboxStatus.PENDING, attempts=0),
    DeliveryState.RETRYING: Q(status=OutboxStatus.PENDING, attempts__gt=0),
    DeliveryState.FAILED: Q(status=OutboxStatus.FAILED),
}


def _actions(values: list[str], name: str) -> list[str]:
    """Keep the actions asked for; refuse one no handler is registered for."""
    cleaned: list[str] = []
    for value in params_texts(values, name):
        if value not in HANDLERS:
            raise InvalidInput(f"{name} must be a registered action, not {value!r}.", field=name)
        if value not in cleaned:
            cleaned.append(value)
    return cleaned


@dataclass
class OutboxFilterSet(FilterSet):
    """Validated filters of the deliveries page; `filter` turns them into a queryset."""

    params = (
        FilterParam(
            "state",
            "states",
            params_choices([str(s) for s in STATES]),
            many=True,
            description="queued, retrying or failed.",
        ),
        FilterParam("action", "actions", _actions, many=True, description="Outbox actions."),
    )

    states: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)

    @property
    def is_filtered(self) -> bool:
        return bool(self.states or self.actions)

    def filter(self, queryset: QuerySet[OutboxItem]) -> QuerySet[OutboxItem]:
        """Return the calls of *queryset* not sent yet that match every filter."""
        queryset = queryset.filter(status__in=[OutboxStatus.PENDING, OutboxStatus.FAILED])
        if self.states:
            wanted = Q()
            for state in self.states:
                wanted |= _STATE_Q[DeliveryState(state)]
            queryset = queryset.filter(wanted)
        if self.actions:
            queryset = queryset.filter(action__in=self.actions)
        return queryset

    def as_query(self) -> dict[str, Any]:
        """Return the filters as they appear in a shareable URL."""
        query: dict[str, Any] = {}
        if self.states:
            query["state"] = list(self.states)
        if self.actions:
            query["action"] = list(self.actions)
        return query
