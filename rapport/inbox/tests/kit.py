"""Bring conversations in through the real ingest path.

For the web pages: `POST /api/v1/tickets` with a bearer token, or a raw email to
`POST /api/v1/inbound/email`; both process inline. For the ingest tests: ticket events
stored as a batch API would, left for `inbound_events_process`.
"""

import datetime
from email.message import EmailMessage
from typing import Any

from django.test import Client

from rapport.inbox.models import Conversation, InboundEvent, Source
from rapport.inbox.services import inbound_events_store_many

HTMX = {"HX-Request": "true"}
T0 = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


def page_text(response: Any) -> str:
    """Return the body of a page answer as text."""
    return response.content.decode()


def ticket(api: Client, email: str, subject: str = "", **fields: Any) -> Conversation:
    """Open a conversation through `POST /api/v1/tickets`; return it."""
    payload = {"requester_email": email, "subject": subject, "body": f"Body of {subject}"}
    response = api.post("/api/v1/tickets", payload | fields, content_type="application/json")
    assert response.status_code == 201, response.content
    return Conversation.objects.get(pk=response.json()["id"])


def raw_email(
    sender: str,
    subject: str,
    body: str,
    *,
    message_id: str,
    in_reply_to: str = "",
    attachment: tuple[str, bytes] | None = None,
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "support@rapport.test"
    message["Subject"] = subject
    message["Message-ID"] = f"<{message_id}>"
    if in_reply_to:
        message["In-Reply-To"] = f"<{in_reply_to}>"
        message["References"] = f"<{in_reply_to}>"
    message.set_content(body)
    if attachment:
        message.add_attachment(
            attachment[1], maintype="application", subtype="pdf", filename=attachment[0]
        )
    return bytes(message)


def send_email(api: Client, raw: bytes) -> int:
    response = api.generic("POST", "/api/v1/inbound/email", raw, content_type="message/rfc822")
    assert response.status_code == 202, response.content
    return int(response.json()["conversation_id"])


def ticket_payload(email: str, **fields: Any) -> dict[str, Any]:
    return {"requester_email": email, "subject": "Help", "body": "It broke.", **fields}


def store(*tickets: tuple[str, dict[str, Any]]) -> list[int]:
    """Store ticket events as a batch API would; return their ids in order."""
    inbound_events_store_many(Source.API, list(tickets))
    keys = [key for key, _ in tickets]
    by_key = dict(
        InboundEvent.objects.filter(source=Source.API, external_id__in=keys).values_list(
            "external_id", "pk"
        )
    )
    return [by_key[key] for key in keys]
