"""The outbox handler that sends a team reply through its conversation's channel."""

from typing import Any

from rapport.inbox.adapters import channel_adapter
from rapport.inbox.models import DeliveryStatus
from rapport.inbox.selectors import message_for_delivery, reply_conversations
from rapport.inbox.services import (
    DELIVER_ACTION,
    reply_delivered,
    reply_delivery_failed,
    reply_requeue,
)
from rapport.outbox.handlers import OutboxFailed, OutboxSubject, outbox_handler


def _failed(payload: dict[str, Any], error: str, final: bool) -> None:
    reply_delivery_failed(message_id=int(payload["message_id"]), error=error, final=final)


def _requeued(payload: dict[str, Any]) -> None:
    reply_requeue(message_id=int(payload["message_id"]))


def _describe(payloads: list[dict[str, Any]]) -> list[OutboxSubject | None]:
    """Name each reply's conversation, linked, for the deliveries page."""
    ids = [_message_id(p) for p in payloads]
    conversations = reply_conversations([i for i in ids if i is not None])
    subjects: list[OutboxSubject | None] = []
    for message_id in ids:
        conversation = conversations.get(message_id) if message_id is not None else None
        subjects.append(
            OutboxSubject(
                f"{conversation.get_source_display()} reply in “{conversation}”",
                conversation.get_absolute_url(),
            )
            if conversation is not None
            else None
        )
    return subjects


def _message_id(payload: dict[str, Any]) -> int | None:
    value = payload.get("message_id")
    return value if isinstance(value, int) else None


@outbox_handler(DELIVER_ACTION, on_failure=_failed, on_requeue=_requeued, describe=_describe)
def message_deliver(payload: dict[str, Any]) -> dict[str, Any]:
    """Hand the reply to its channel's adapter; record it sent once the channel took it."""
    message = message_for_delivery(int(payload["message_id"]))
    if message is None:
        raise OutboxFailed(f"Reply {payload['message_id']} no longer exists.")
    if message.delivery_status == DeliveryStatus.SENT:
        return {"already_sent": True}
    try:
        adapter = channel_adapter(message.source)
    except KeyError:
        raise OutboxFailed(f"No channel delivers {message.source} replies.") from None
    delivery = adapter.deliver(message)
    reply_delivered(
        message_id=message.pk, external_id=delivery.external_id, sent_at=delivery.sent_at
    )
    return {"external_id": delivery.external_id, **delivery.detail}
