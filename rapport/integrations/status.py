"""The state of an integration, as the Integrations page shows it, and how it is told.

Each integration module provides a status function, `(Activity) -> IntegrationStatus`,
and optionally a connection test, `() -> ConnectionTest`; both are registered in
`rapport.integrations.registry`. `Activity` holds what the inbox, the outbox and the
health records say, read once for the whole page; `integration_status_build` turns an
integration's share of it into a state with one rule for every integration:

- not configured: its settings are missing (what is missing is in `setup`);
- failing: its latest outside call or test failed, or an event of its sources waits with
  an error from its last try, or one was given up on and nothing came through since;
- connected: something succeeded (a call, a test, a processed event), nothing failing;
- not checked yet: configured, and nothing has happened yet.
"""

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import models

from rapport.inbox.selectors import InboundWaiting
from rapport.inbox.services import DELIVER_ACTION
from rapport.integrations.models import IntegrationHealth
from rapport.outbox.handlers import HANDLERS
from rapport.outbox.selectors import ActionWaiting

# Outside calls a connection test makes wait at most this long for an answer.
TEST_TIMEOUT_SECONDS = 5


class IntegrationState(models.TextChoices):
    CONNECTED = "connected", "Connected"
    FAILING = "failing", "Failing"
    NOT_CONFIGURED = "not_configured", "Not configured"
    UNCHECKED = "unchecked", "Not checked yet"


@dataclass(frozen=True)
class ConnectionTest:
    """What a connection test found: ok or not, and what to tell the admin.

    `unset` is a test that made no call because the setting it needs is missing: a
    failed test, but no sign that the connection itself fails.
    """

    ok: bool
    detail: str
    unset: bool = False


@dataclass
class Activity:
    """What the inbox, the outbox and the health records hold, read once for the page."""

    inbound: dict[str, InboundWaiting]
    outbox: dict[str, ActionWaiting]
    replies: dict[str, ActionWaiting]
    health: dict[str, IntegrationHealth]
    # When the latest event of a source was processed; called once per source at most.
    last_processed: Callable[[str], datetime.datetime | None]


@dataclass(frozen=True)
class IntegrationStatus:
    """One integration's row on the Integrations page."""

    key: str
    title: str
    state: IntegrationState
    setup: list[str] = field(default_factory=list)
    last_success_at: datetime.datetime | None = None
    error: str = ""
    error_at: datetime.datetime | None = None
    # True when `error_at` is when the failing event arrived, not when it failed.
    error_at_is_received: bool = False
    events_waiting: int = 0
    events_failing: int = 0
    events_failed: int = 0
    oldest_event_at: datetime.datetime | None = None
    calls: ActionWaiting = ActionWaiting()
    actions: list[str] = field(default_factory=list)
    health: IntegrationHealth | None = None
    testable: bool = False

    @property
    def waiting(self) -> int:
        """Events and outside calls not through yet."""
        return self.events_waiting + self.calls.waiting


def actions_named(prefix: str) -> list[str]:
    """Return the registered outbox actions whose name starts with *prefix* (e.g. "slack.")."""
    return sorted(action for action in HANDLERS if action.startswith(prefix))


def _calls_sum(parts: Iterable[ActionWaiting]) -> ActionWaiting:
    queued = retrying = failed = 0
    next_try: datetime.datetime | None = None
    for part in parts:
        queued += part.queued
        retrying += part.retrying
        failed += part.failed
        if part.next_try_at is not None and (next_try is None or part.next_try_at < next_try):
            next_try = part.next_try_at
    return ActionWaiting(queued, retrying, failed, next_try)


def _latest(*times: datetime.datetime | None) -> datetime.datetime | None:
    known = [t for t in times if t is not None]
    return max(known) if known else None


def integration_status_build(
    activity: Activity,
    *,
    key: str,
    title: str,
    configured: bool,
    setup: list[str],
    sources: Iterable[str] = (),
    actions: Iterable[str] = (),
    reply_sources: Iterable[str] = (),
    testable: bool = False,
) -> IntegrationStatus:
    """Tell one integration's state from its share of *activity* (see the module's rules).

    *sources* are the inbound sources it brings events from, *actions* the outbox actions
    it makes calls for, *reply_sources* the channels whose team replies it delivers.
    """
    sources = list(sources)
    actions = list(actions)
    reply_sources = list(reply_sources)
    inbound = [activity.inbound[s] for s in sources if s in activity.inbound]
    calls = _calls_sum(
        [activity.outbox[a] for a in actions if a in activity.outbox]
        + [activity.replies[s] for s in reply_sources if s in activity.replies]
    )
    health = activity.health.get(key)
    processed_at = _latest(*(activity.last_processed(s) for s in sources))
    last_success_at = _latest(health.last_ok_at if health else None, processed_at)

    # Candidate errors, newest first wins: (when, error, when is the event's arrival).
    failures: list[tuple[datetime.datetime, str, bool]] = []
    if health is not None and health.failing and health.last_error_at is not None:
        failures.append((health.last_error_at, health.last_error, False))
    for waiting in inbound:
        received = waiting.last_error_received_at
        if received is None or not waiting.last_error:
            continue
        # An event given up on stops counting once a later one came through.
        if waiting.failing or processed_at is None or processed_at < received:
            failures.append((received, waiting.last_error, True))
    failures.sort(key=lambda failure: failure[0], reverse=True)

    if not configured:
        state = IntegrationState.NOT_CONFIGURED
    elif failures:
        state = IntegrationState.FAILING
    elif last_success_at is not None:
        state = IntegrationState.CONNECTED
    else:
        state = IntegrationState.UNCHECKED
    error_at, error, at_is_received = failures[0] if failures else (None, "", False)
    return IntegrationStatus(
        key=key,
        title=title,
        state=state,
        setup=setup,
        last_success_at=last_success_at,
        error=error,
        error_at=error_at,
        error_at_is_received=at_is_received,
        events_waiting=sum(w.waiting for w in inbound),
        events_failing=sum(w.failing for w in inbound),
        events_failed=sum(w.failed for w in inbound),
        oldest_event_at=_latest_oldest(inbound),
        calls=calls,
        actions=actions + ([DELIVER_ACTION] if reply_sources else []),
        health=health,
        testable=testable,
    )


def _latest_oldest(inbound: list[InboundWaiting]) -> datetime.datetime | None:
    oldest = [w.oldest_at for w in inbound if w.oldest_at is not None]
    return min(oldest) if oldest else None
