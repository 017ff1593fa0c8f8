"""The API channel: tickets in through `POST /api/v1/tickets`, replies out by webhook.

- verify: a personal API token (the JSON API's authentication);
- store: `inbox.services.ticket_store`, unique on the Idempotency-Key;
- enrich: the Slack channel the ticket names, if any;
- normalize: `ApiChannel.normalize`, pure;
- deliver: the reply is readable at `GET /api/v1/conversations/{id}/messages`; when an
  admin set an outbound webhook, it is also POSTed there, signed (`webhooks`).
"""

import datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Q
from django.utils import timezone

from rapport.inbox.adapters import ConversationChannel, Delivery, IncomingMessage
from rapport.inbox.models import Channel, InboundEvent, Message, Source
from rapport.integrations.api.services import outbound_webhook_get
from rapport.integrations.api.webhooks import webhook_post


class ApiChannel(ConversationChannel):
    source = Source.API
    label = "API"
    threads_are_requests = True

    def enrich(self, event: InboundEvent) -> Channel | None:
        slack_channel = (event.payload.get("slack_channel") or "").strip()
        if not slack_channel:
            return None
        name = slack_channel.lstrip("#")
        return Channel.objects.filter(Q(slack_channel_id=slack_channel) | Q(name=name)).first()

    def normalize(self, event: InboundEvent, extra: Channel | None) -> IncomingMessage:
        """Turn a stored ticket payload into the first message of its conversation."""
        payload = event.payload
        return IncomingMessage(
            source=Source.API,
            external_id=event.external_id,
            thread_key=event.external_id,
            text=payload.get("body") or "",
            subject=payload.get("subject") or "",
            sent_at=event.received_at or timezone.now(),
            author_email=(payload.get("requester_email") or "").strip().lower(),
            author_name=payload.get("requester_name") or "",
            account_id=payload.get("account_id"),
            customer_ref=payload.get("customer_ref") or "",
            channel=extra,
        )

    def deliver(self, message: Message) -> Delivery:
        """POST the reply to the outbound webhook, when one is set; it is readable anyway."""
        webhook = outbound_webhook_get()
        if not webhook.url:
            return Delivery(detail={"webhook": False})
        sent_at = timezone.now()
        status = webhook_post(webhook.url, webhook.secret, reply_event(message, sent_at))
        return Delivery(detail={"webhook": True, "http_status": status}, sent_at=sent_at)


def reply_event(message: Message, sent_at: datetime.datetime) -> dict[str, Any]:
    """Return the webhook event of a reply: {"type", "conversation_id", "message"}."""
    return {
        "type": "conversation.reply",
        "conversation_id": message.conversation_id,
        "message": {
            "id": message.pk,
            "conversation_id": message.conversation_id,
            "direction": message.direction,
            "author_name": message.author_name,
            "text": message.text,
            # Written as the JSON API writes times, so both tell the same moment alike.
            "sent_at": DjangoJSONEncoder().default(sent_at),
        },
    }
