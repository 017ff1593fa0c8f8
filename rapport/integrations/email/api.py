"""Raw email in the JSON API: `POST /api/v1/inbound/email` (the channel's verify and store)."""

from typing import Any

from django.db import DatabaseError
from django.http import HttpRequest
from ninja import Router, Schema
from ninja.responses import Status

from rapport.core.api_errors import ErrorOut
from rapport.inbox.models import InboundEventStatus
from rapport.integrations.email.parse import MAX_RAW_BYTES
from rapport.integrations.email.receive import email_receive_now

router = Router(tags=["inbound"])


class InboundEmailOut(Schema):
    conversation_id: int | None
    status: str
    reason: str = ""


@router.post(
    "/inbound/email",
    response={
        202: InboundEmailOut,
        400: ErrorOut,
        413: ErrorOut,
        415: ErrorOut,
        503: ErrorOut,
    },
    summary="Receive a raw email",
    description=(
        "Send one raw RFC 822 message as the body, with `Content-Type: message/rfc822`. "
        "Answers 202 with the conversation the message joined (`conversation_id` is null "
        "while it waits for the worker). A redelivery of the same Message-ID changes "
        "nothing. A message that can never be ingested (no sender address) answers 400 "
        "with the reason, which is also recorded; one over 25 MB answers 413."
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"message/rfc822": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
def inbound_email(request: HttpRequest) -> Status[dict[str, Any]]:
    if (request.content_type or "").lower() != "message/rfc822":
        return Status(415, {"error": "Send the raw email with Content-Type: message/rfc822."})
    too_large = {"error": f"The email is larger than {MAX_RAW_BYTES // 2**20} MB."}
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_RAW_BYTES:
        return Status(413, too_large)
    # Read the stream directly: request.body would apply the 5 MB form-upload limit.
    raw = request.read(MAX_RAW_BYTES + 1)
    if len(raw) > MAX_RAW_BYTES:
        return Status(413, too_large)
    if not raw.strip():
        return Status(400, {"error": "The request body is empty; send a raw RFC 822 email."})
    try:
        receipt = email_receive_now(raw, envelope={"via": "api", "user": request.user.pk})
    except DatabaseError:
        return Status(503, {"error": "The database is unavailable; send the email again later."})
    if receipt.rejected:
        return Status(400, {"error": receipt.rejected})
    event = receipt.event
    return Status(
        202,
        {
            "conversation_id": receipt.conversation_id,
            "status": event.status,
            "reason": event.error if event.status == InboundEventStatus.IGNORED else "",
        },
    )
