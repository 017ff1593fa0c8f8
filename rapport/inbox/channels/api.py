"""API tickets: `POST /api/v1/tickets`."""

from django.db.models import Q
from django.utils import timezone

from rapport.inbox.ingest import IncomingMessage, normalizer
from rapport.inbox.models import Channel, InboundEvent, Source


@normalizer(Source.API)
def ticket_normalize(event: InboundEvent) -> IncomingMessage:
    """Turn a stored ticket payload into the first message of its conversation."""
    payload = event.payload
    channel = None
    if slack_channel := (payload.get("slack_channel") or "").strip():
        name = slack_channel.lstrip("#")
        channel = Channel.objects.filter(Q(slack_channel_id=slack_channel) | Q(name=name)).first()
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
        channel=channel,
    )
