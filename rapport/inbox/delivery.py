"""The outbox handler that sends a team reply through its conversation's channel."""

from typing import Any

from rapport.inbox.adapters import channel_adapter
from rapport.inbox.models import DeliveryStatus
from rapport.inbox.selectors import message_for_delivery
from rapport.inbox.services import DELIVER_ACTION, reply_delivered, reply_delivery_failed
from rapport.outbox.handlers import OutboxFailed, outbox_handler


def _failed(payload: dict[str, Any], error: str, final: bool) -> None:
    reply_delivery_failed(message_id=int(payload["message_id"]), error=error, final=final)


@outbox_handler(DELIVER_ACTION, on_failure=_failed)
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
