"""The channel adapter contract, and the registry that the ingest path and the outbox read.

Every channel is one adapter in `rapport/integrations/<name>/`, with these steps:

- `verify`: the HTTP face checks the signature, write key or token; a clear 4xx, nothing
  stored.
- `store`: the inbound event, unique on (source, external id); a retry is a no-op
  (`inbox.services.inbound_event_store`).
- `enrich`: fetch what the payload lacks (a Slack profile, a channel's name, the member
  behind an address). Network I/O is allowed here and only here, and the ingest path
  calls it outside any database transaction.
- `normalize`: pure, payload and enrichment in, `IncomingMessage` out; no I/O, no writes.
- the shared ingest (`inbox.ingest`): map, store the message, queue triage.
- `deliver`: a team reply out through the channel, called by the outbox after commit.

A conversation channel (one the team replies on) must have `deliver`: the class is
abstract without it and cannot be registered. An intake-only source (product events,
imports, CRM syncs) registers as an `IntakeSource`, which has no `deliver` at all.
Registration happens in one place, `rapport.integrations.registry`.
"""

import abc
import datetime
from dataclasses import dataclass, field
from typing import Any, ClassVar

from django.core.exceptions import ImproperlyConfigured

from rapport.inbox.models import Channel, InboundEvent, Message, RequesterIdentity


class EventRejected(Exception):
    """The event can never become a message; `reason` is recorded on the event."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class IncomingMessage:
    """A message normalized from any channel."""

    source: str
    external_id: str
    thread_key: str
    text: str
    sent_at: datetime.datetime
    author_email: str = ""
    author_name: str = ""
    author_external_id: str = ""
    author_user_id: int | None = None
    # A `RequesterIdentity` where the channel can tell ("" where the channel is the proof).
    # An unverified author's email makes no contact and no account.
    author_identity: str = ""
    subject: str = ""
    channel: Channel | None = None
    account_id: int | None = None
    customer_ref: str = ""
    parent_ids: list[str] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)
    action: str = "create"  # create | edit | delete

    @property
    def from_team(self) -> bool:
        return self.author_user_id is not None

    @property
    def author_unverified(self) -> bool:
        return self.author_identity == RequesterIdentity.UNVERIFIED


@dataclass(frozen=True)
class Delivery:
    """What a channel answered when it took a reply.

    `external_id` is the reply's id in the channel (a Slack "team:channel:ts", an email
    Message-ID), when the channel gives one: the message is known by it from then on, so
    the channel's echo of the reply is recognised as the same message.
    """

    external_id: str = ""
    detail: dict[str, Any] = field(default_factory=dict)
    # When the channel took it, if the channel was told a time (a webhook's `sent_at`).
    sent_at: datetime.datetime | None = None


class SourceAdapter(abc.ABC):
    """What every inbound source has: a name, and the enrich and normalize steps."""

    source: ClassVar[str]
    # Every thread started here is a customer request, with no detection (API tickets).
    threads_are_requests: ClassVar[bool] = False
    # The subject says what the customer asks: detection reads it with the text (email).
    subject_tells_request: ClassVar[bool] = False

    def enrich(self, event: InboundEvent) -> Any:
        """Return what the event's payload lacks; nothing by default.

        Called outside any transaction; may read the database and call the channel's
        service. Raise (e.g. the service's "unavailable" error) to leave the event
        pending for a retry, or EventRejected when it can never become a message.
        """
        return None

    @abc.abstractmethod
    def normalize(self, event: InboundEvent, extra: Any) -> IncomingMessage | None:
        """Turn *event* and its enrichment into a message, or None when it is none.

        Pure: no queries, no network, no writes. Raise EventRejected for an event that
        can never become a message.
        """


class ConversationChannel(SourceAdapter):
    """A channel the team answers on: it takes messages in and delivers replies out."""

    label: ClassVar[str]
    # True for a channel that shows replies straight from Rapport's database (web chat):
    # a reply is sent once stored, with no outside call to wait for.
    delivered_when_stored: ClassVar[bool] = False

    @abc.abstractmethod
    def deliver(self, message: Message) -> Delivery:
        """Send the team's *message* to the customer through the channel.

        Called by the outbox after commit, outside any transaction. Raise
        `rapport.outbox.handlers.OutboxRetry` for a temporary failure and
        `OutboxFailed` for one that waiting cannot fix.
        """


class IntakeSource(SourceAdapter):
    """A source that only brings data in (product events, imports, CRM and billing syncs)."""


_CHANNELS: dict[str, ConversationChannel] = {}
_INTAKES: dict[str, IntakeSource] = {}


def channel_register(adapter: ConversationChannel) -> None:
    """Register the adapter of a conversation channel; each source once."""
    if not isinstance(adapter, ConversationChannel):
        raise ImproperlyConfigured(
            f"{type(adapter).__name__} is not a ConversationChannel: a channel the team "
            "replies on needs deliver()."
        )
    _register(_CHANNELS, adapter)


def intake_register(adapter: IntakeSource) -> None:
    """Register the adapter of an intake-only source (it has no deliver step)."""
    if not isinstance(adapter, IntakeSource) or hasattr(adapter, "deliver"):
        raise ImproperlyConfigured(
            f"{type(adapter).__name__} is not an intake-only source: register a channel "
            "that delivers replies with channel_register()."
        )
    _register(_INTAKES, adapter)


def _register(registry: dict[str, Any], adapter: SourceAdapter) -> None:
    known = _CHANNELS.get(adapter.source) or _INTAKES.get(adapter.source)
    if known is not None and type(known) is not type(adapter):
        raise ImproperlyConfigured(
            f"Two adapters for the source {str(adapter.source)!r}: "
            f"{type(known).__name__} and {type(adapter).__name__}."
        )
    registry[adapter.source] = adapter


def source_adapter(source: str) -> SourceAdapter:
    """Return the registered adapter of *source* (KeyError when none is)."""
    adapter = _CHANNELS.get(source) or _INTAKES.get(source)
    if adapter is None:
        raise KeyError(f"No adapter is registered for the source {source!r}.")
    return adapter


def channel_adapter(source: str) -> ConversationChannel:
    """Return the registered conversation channel of *source* (KeyError when none is)."""
    return _CHANNELS[source]


def channels_registered() -> dict[str, ConversationChannel]:
    """Return the registered conversation channels, by source."""
    return dict(_CHANNELS)
