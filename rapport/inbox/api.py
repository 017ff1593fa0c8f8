"""Inbound channels of the JSON API: tickets and raw email."""

import hashlib
import json
import uuid
from typing import Any

from django.http import HttpRequest
from ninja import Header, Router
from ninja.responses import Status

from rapport.errors import Conflict, InvalidInput
from rapport.inbox.channels.email import email_event_id
from rapport.inbox.email_parse import MAX_RAW_BYTES
from rapport.inbox.ingest import inbound_event_process_now
from rapport.inbox.models import Conversation, InboundEventStatus, Message, Source
from rapport.inbox.schemas import ErrorOut, InboundEmailOut, TicketIn, TicketOut
from rapport.inbox.services import inbound_event_store
from rapport.mapping.selectors import mapping_latest

router = Router(tags=["inbound"])


def _ticket_answer(conversation: Conversation) -> dict[str, Any]:
    decision = mapping_latest(conversation)
    return {
        "id": conversation.pk,
        "account_id": conversation.account_id,
        "mapping": {
            "method": decision.method if decision else "none",
            "outcome": decision.outcome if decision else "unmatched",
            "reason": decision.reason if decision else "",
        },
    }


@router.post(
    "/tickets",
    response={200: TicketOut, 201: TicketOut, 409: ErrorOut, 422: ErrorOut},
    summary="Create a ticket",
    description=(
        "Create a conversation from a customer request and link it to an account. Send an "
        "`Idempotency-Key` header to make retries safe: a retry answers 200 with the same "
        "ticket; the same key with a different body answers 409."
    ),
)
def ticket_create(
    request: HttpRequest,
    payload: TicketIn,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key", max_length=200),
) -> Status[dict[str, Any]]:
    body = payload.model_dump()
    if "@" not in body["requester_email"]:
        raise InvalidInput("requester_email must be an email address.", field="requester_email")
    fingerprint = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    key = (idempotency_key or "").strip() or f"generated-{uuid.uuid4()}"
    event, created = inbound_event_store(
        source=Source.API,
        external_id=key,
        payload=body | {"fingerprint": fingerprint},
    )
    if not created and event.payload.get("fingerprint") != fingerprint:
        raise Conflict("This Idempotency-Key was already used with a different request body.")
    inbound_event_process_now(event)
    conversation = Conversation.objects.filter(
        source=Source.API, thread_key=event.external_id
    ).first()
    if conversation is None:
        raise InvalidInput(event.error or "The ticket could not be created.")
    return Status(201 if created else 200, _ticket_answer(conversation))


@router.post(
    "/inbound/email",
    response={202: InboundEmailOut, 400: ErrorOut, 413: ErrorOut, 415: ErrorOut},
    summary="Receive a raw email",
    description=(
        "Send one raw RFC 822 message as the body, with `Content-Type: message/rfc822`. "
        "Answers 202 with the conversation the message joined. A redelivery of the same "
        "Message-ID changes nothing."
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"message/rfc822": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
def inbound_email(request: HttpRequest) -> Status[dict[str, Any]]:
    content_type = request.content_type or ""
    if content_type != "message/rfc822":
        return Status(415, {"error": "Send the raw email with Content-Type: message/rfc822."})
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    if length > MAX_RAW_BYTES:
        return Status(413, {"error": f"The email is larger than {MAX_RAW_BYTES // 2**20} MB."})
    # Read the stream directly: request.body would apply the 5 MB form-upload limit.
    raw = request.read(MAX_RAW_BYTES + 1)
    if len(raw) > MAX_RAW_BYTES:
        return Status(413, {"error": f"The email is larger than {MAX_RAW_BYTES // 2**20} MB."})
    if not raw.strip():
        return Status(400, {"error": "The request body is empty; send a raw RFC 822 email."})
    message_id = email_event_id(raw)
    event, _ = inbound_event_store(source=Source.EMAIL, external_id=message_id, raw=raw)
    inbound_event_process_now(event)
    if event.status == InboundEventStatus.REJECTED:
        return Status(400, {"error": event.error})
    message = Message.objects.filter(source=Source.EMAIL, external_id=message_id).first()
    return Status(
        202,
        {
            "conversation_id": message.conversation_id if message else None,
            "status": event.status,
            "reason": event.error,
        },
    )
