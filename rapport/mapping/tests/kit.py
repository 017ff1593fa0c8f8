"""Create tickets through `POST /api/v1/tickets` and read what a person sees of their mapping."""

from typing import Any

from django.test import Client

from rapport.accounts.models import Contact
from rapport.inbox.models import Conversation
from rapport.mapping.models import MappingDecision

TICKETS = "/api/v1/tickets"


def ticket(api: Client, requester_email: str, **fields: Any) -> dict[str, Any]:
    """Create a ticket and return its answer, after checking it against the stored decision."""
    response = api.post(
        TICKETS,
        {"requester_email": requester_email, "subject": "Help", "body": "It broke.", **fields},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    answer = response.json()
    conversation = Conversation.objects.get(pk=answer["id"])
    [decision] = MappingDecision.objects.filter(conversation=conversation)
    assert answer["account_id"] == conversation.account_id == decision.account_id
    assert answer["mapping"] == {
        "method": decision.method,
        "outcome": decision.outcome,
        "reason": decision.reason,
    }
    assert (conversation.mapping_method, conversation.mapping_outcome) == (
        decision.method,
        decision.outcome,
    )
    return answer


def decision_of(answer: dict[str, Any]) -> MappingDecision:
    return MappingDecision.objects.get(conversation_id=answer["id"])


def contact_accounts(email: str) -> list[str]:
    """Return the names of the accounts *email* is a contact of ([] when no contact)."""
    contact = Contact.objects.filter(email=email).first()
    return sorted(contact.accounts.values_list("name", flat=True)) if contact else []


def requester_of(answer: dict[str, Any]) -> str | None:
    conversation = Conversation.objects.select_related("requester").get(pk=answer["id"])
    return conversation.requester.email if conversation.requester else None
