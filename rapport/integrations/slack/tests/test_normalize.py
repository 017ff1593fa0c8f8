"""The Slack normalizer on its own: timestamps, keys, and what is not a message."""

import datetime

import pytest

from rapport.inbox.adapters import EventRejected, IncomingMessage
from rapport.inbox.models import InboundEvent
from rapport.integrations.slack.normalize import slack_normalize, slack_ts_to_datetime
from rapport.integrations.slack.tests.conftest import CHANNEL, TEAM, payload


@pytest.mark.parametrize(
    ("ts", "expected"),
    [
        ("1767225600.000100", datetime.datetime(2026, 1, 1, 0, 0, 0, 100, tzinfo=datetime.UTC)),
        ("1767225600.999999", datetime.datetime(2026, 1, 1, 0, 0, 0, 999999, tzinfo=datetime.UTC)),
        ("1767225600", datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)),
    ],
)
def test_a_slack_ts_becomes_the_exact_utc_moment(ts: str, expected: datetime.datetime) -> None:
    assert slack_ts_to_datetime(ts) == expected


def test_an_unreadable_ts_rejects_the_event() -> None:
    with pytest.raises(EventRejected, match="timestamp"):
        slack_ts_to_datetime("yesterday")


def _normalize(body: dict[str, object]) -> IncomingMessage | None:
    return slack_normalize(InboundEvent(source="slack", external_id="Ev1", payload=body), None)


def test_an_edit_points_at_the_original_message() -> None:
    incoming = _normalize(payload("message_changed"))
    assert incoming is not None
    assert incoming.action == "edit"
    assert incoming.external_id == f"{TEAM}:{CHANNEL}:1767225600.000100"
    assert incoming.text.startswith("Hi team, our CSV exports")


def test_a_delete_points_at_the_deleted_message() -> None:
    incoming = _normalize(payload("message_deleted"))
    assert incoming is not None
    assert (incoming.action, incoming.external_id) == (
        "delete",
        f"{TEAM}:{CHANNEL}:1767225600.000100",
    )


@pytest.mark.parametrize("subtype", ["channel_leave", "channel_topic", "pinned_item"])
def test_channel_noise_is_not_a_message(subtype: str) -> None:
    body = payload("message")
    body["event"]["subtype"] = subtype
    assert _normalize(body) is None


def test_a_message_without_a_channel_is_rejected() -> None:
    body = payload("message")
    del body["event"]["channel"]
    with pytest.raises(EventRejected, match="channel"):
        _normalize(body)
