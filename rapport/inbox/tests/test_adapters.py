"""The channel adapter contract: a channel the team replies on must deliver, once per source."""

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from rapport.inbox import adapters
from rapport.inbox.adapters import (
    ConversationChannel,
    Delivery,
    IncomingMessage,
    IntakeSource,
    channel_adapter,
    channel_register,
    channels_registered,
    intake_register,
    source_adapter,
)
from rapport.inbox.models import InboundEvent, Message
from rapport.integrations.slack.adapter import SlackChannel


@pytest.fixture(autouse=True)
def registries(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Let a test register adapters without leaving them behind for the rest of the suite."""
    monkeypatch.setattr(adapters, "_CHANNELS", dict(adapters._CHANNELS))
    monkeypatch.setattr(adapters, "_INTAKES", dict(adapters._INTAKES))
    yield


class ProductEvents(IntakeSource):
    source = "product_events"

    def normalize(self, event: InboundEvent, extra: Any) -> IncomingMessage | None:
        return None


class OtherProductEvents(IntakeSource):
    source = "product_events"

    def normalize(self, event: InboundEvent, extra: Any) -> IncomingMessage | None:
        return None


def test_a_conversation_channel_without_deliver_cannot_be_made_so_never_registered() -> None:
    class Fax(ConversationChannel):
        source = "fax"
        label = "Fax"

        def normalize(self, event: InboundEvent, extra: Any) -> IncomingMessage | None:
            return None

    with pytest.raises(TypeError, match="deliver"):
        Fax()  # type: ignore[abstract]
    assert "fax" not in channels_registered()


def test_a_conversation_channel_with_deliver_registers_and_is_found_by_its_source() -> None:
    class Fax(ConversationChannel):
        source = "fax"
        label = "Fax"

        def normalize(self, event: InboundEvent, extra: Any) -> IncomingMessage | None:
            return None

        def deliver(self, message: Message) -> Delivery:
            return Delivery()

    fax = Fax()
    channel_register(fax)
    assert channel_adapter("fax") is fax
    assert source_adapter("fax") is fax
    # Registering the same kind of adapter again (a second `ready()`) is harmless.
    channel_register(Fax())
    assert isinstance(channel_adapter("fax"), Fax)


@pytest.mark.parametrize(
    "thing", [object(), "slack", ProductEvents()], ids=["object", "string", "intake source"]
)
def test_channel_register_refuses_anything_but_a_conversation_channel(thing: Any) -> None:
    before = channels_registered()
    with pytest.raises(ImproperlyConfigured, match="not a ConversationChannel"):
        channel_register(thing)
    assert channels_registered() == before


def test_an_intake_source_that_defines_deliver_is_refused() -> None:
    class SneakyImport(IntakeSource):
        source = "crm_import"

        def normalize(self, event: InboundEvent, extra: Any) -> IncomingMessage | None:
            return None

        def deliver(self, message: Message) -> Delivery:
            return Delivery()

    with pytest.raises(ImproperlyConfigured, match="not an intake-only source"):
        intake_register(SneakyImport())
    with pytest.raises(KeyError):
        source_adapter("crm_import")


def test_intake_register_refuses_a_conversation_channel() -> None:
    with pytest.raises(ImproperlyConfigured, match="channel_register"):
        intake_register(SlackChannel())  # type: ignore[arg-type]


def test_an_intake_source_registers_without_becoming_a_channel_one_can_reply_on() -> None:
    intake = ProductEvents()
    intake_register(intake)
    assert source_adapter("product_events") is intake
    assert "product_events" not in channels_registered()
    with pytest.raises(KeyError):
        channel_adapter("product_events")


def test_the_four_conversation_channels_are_registered_and_each_delivers() -> None:
    registered = channels_registered()
    assert set(registered) == {"slack", "email", "web_chat", "api"}
    for source, adapter in registered.items():
        assert adapter.source == source
        assert isinstance(adapter, ConversationChannel)
        assert "deliver" not in type(adapter).__abstractmethods__
        assert type(adapter).deliver is not ConversationChannel.deliver
        assert channel_adapter(source) is adapter
    # Only web chat shows replies straight from the database.
    assert {s for s, a in registered.items() if a.delivered_when_stored} == {"web_chat"}


def test_two_different_adapter_classes_for_one_channel_source_are_refused() -> None:
    class OtherSlack(SlackChannel):
        pass

    slack = channel_adapter("slack")
    with pytest.raises(
        ImproperlyConfigured, match="Two adapters for the source .*SlackChannel and OtherSlack"
    ):
        channel_register(OtherSlack())
    assert channel_adapter("slack") is slack


def test_two_different_adapter_classes_for_one_intake_source_are_refused() -> None:
    intake_register(ProductEvents())
    with pytest.raises(ImproperlyConfigured, match="Two adapters"):
        intake_register(OtherProductEvents())
    assert isinstance(source_adapter("product_events"), ProductEvents)


def test_an_intake_source_cannot_take_the_name_of_a_conversation_channel() -> None:
    class EmailImport(IntakeSource):
        source = "email"

        def normalize(self, event: InboundEvent, extra: Any) -> IncomingMessage | None:
            return None

    email = channel_adapter("email")
    with pytest.raises(
        ImproperlyConfigured, match="Two adapters for the source .*EmailChannel and EmailImport"
    ):
        intake_register(EmailImport())
    assert source_adapter("email") is email
