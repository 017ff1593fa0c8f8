"""API tickets in the JSON API: `POST /api/v1/tickets` (the channel's verify and store)."""

from typing import Any

from django.db import transaction
from django.http import HttpRequest
from ninja import Header, Router
from ninja.responses import Status

from rapport.core.api_errors import error_responses
from rapport.core.errors import InvalidInput
from rapport.inbox.ingest import inbound_event_prepare, inbound_event_process_now
from rapport.inbox.models import Conversation, Source
from rapport.inbox.services import ticket_event, ticket_store
from rapport.integrations.api.schemas import TicketIn, TicketOut
from rapport.mapping.models import MappingDecision
from rapport.mapping.selectors import mapping_latest

router = Router(tags=["inbound"])


def _ticket_answer(conversation: Conversation, decision: MappingDecision | None) -> dict[str, Any]:
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
    response={200: TicketOut, 201: TicketOut, **error_responses(400, 409)},
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
    # Read what processing needs first, then store and process in one short transaction
    # that only plans and writes (on SQLite it holds the one write lock), so the answer
    # carries the mapping. The event commits even when processing fails (that rolls back
    # to its own savepoint); the worker then gets it.
    body = payload.model_dump()
    ticket = ticket_event(body=body, idempotency_key=idempotency_key)
    prepared = inbound_event_prepare(ticket)
    with transaction.atomic():
        event, created = ticket_store(
            body=body, idempotency_key=idempotency_key, enqueue=False, event=ticket
        )
        ingested = inbound_event_process_now(event, fresh=created, prepared=prepared)
    if ingested.conversation is not None and ingested.decision is not None:
        return Status(201, _ticket_answer(ingested.conversation, ingested.decision))
    # A retry, or a ticket whose processing failed: answer from what is stored.
    conversation = Conversation.objects.filter(
        source=Source.API, thread_key=event.external_id
    ).first()
    if conversation is None:
        raise InvalidInput(event.error or "The ticket could not be created.")
    return Status(
        201 if created else 200, _ticket_answer(conversation, mapping_latest(conversation))
    )
