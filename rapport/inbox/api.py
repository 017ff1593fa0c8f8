"""The inbox in the JSON API: tickets and raw email in, conversations and Slack channels."""

from typing import TYPE_CHECKING, Any

from django.db import DatabaseError
from django.http import HttpRequest
from ninja import Header, Query, Router
from ninja.responses import Status

from rapport.accounts.models import Account
from rapport.core.errors import InvalidInput
from rapport.core.filters import PageQuery
from rapport.inbox import selectors
from rapport.inbox.channels.email import email_receive_now
from rapport.inbox.email_parse import MAX_RAW_BYTES
from rapport.inbox.filters import ConversationFilterSet
from rapport.inbox.ingest import inbound_event_process_now
from rapport.inbox.models import Conversation, InboundEventStatus, Source
from rapport.inbox.schemas import (
    ChannelAccountsIn,
    ConversationAccountIn,
    ConversationDetailOut,
    ConversationListOut,
    ErrorOut,
    InboundEmailOut,
    SlackChannelListOut,
    SlackChannelOut,
    TicketIn,
    TicketOut,
    channel_out,
    conversation_detail_out,
    conversation_out,
)
from rapport.inbox.services import channel_set_accounts, ticket_store
from rapport.mapping.selectors import mapping_latest
from rapport.mapping.services import mapping_override
from rapport.users.models import User

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
    event, created = ticket_store(body=payload.model_dump(), idempotency_key=idempotency_key)
    inbound_event_process_now(event)
    conversation = Conversation.objects.filter(
        source=Source.API, thread_key=event.external_id
    ).first()
    if conversation is None:
        raise InvalidInput(event.error or "The ticket could not be created.")
    return Status(201 if created else 200, _ticket_answer(conversation))


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


# --- conversations and Slack channels ------------------------------------------------------

conversations_router = Router(tags=["conversations"])
channels_router = Router(tags=["channels"])


if TYPE_CHECKING:
    ConversationListQuery = PageQuery
else:
    # The filters are the filter set's own declaration; the page comes from PageQuery.
    ConversationListQuery = ConversationFilterSet.query_schema(
        "ConversationListQuery", base=PageQuery
    )


class ChannelListQuery(PageQuery):
    """A page of Slack channels."""


def _actor(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined]


@conversations_router.get("", response=ConversationListOut, summary="List conversations")
def conversation_list(request: HttpRequest, query: Query[ConversationListQuery]) -> dict[str, Any]:
    filters = ConversationFilterSet.from_schema(query)
    page = selectors.conversation_page(filters, limit=query.limit, offset=query.offset)
    return {"items": [conversation_out(c) for c in page.items], "count": page.count}


@conversations_router.get(
    "/{conversation_id}",
    response=ConversationDetailOut,
    summary="Get a conversation with its messages and mapping decisions",
)
def conversation_get(request: HttpRequest, conversation_id: int) -> dict[str, Any]:
    return conversation_detail_out(selectors.conversation_detail(conversation_id))


@conversations_router.post(
    "/{conversation_id}/account",
    response=ConversationDetailOut,
    summary="Move a conversation to another account",
    description=(
        "Override the mapping by hand: `account_id` moves the conversation to that account, "
        "null unlinks it. The decision is recorded with the caller and the previous account."
    ),
)
def conversation_account_set(
    request: HttpRequest, conversation_id: int, payload: ConversationAccountIn
) -> dict[str, Any]:
    conversation = selectors.conversation_get(conversation_id)
    account = None
    if payload.account_id is not None:
        account = Account.objects.filter(pk=payload.account_id).first()
        if account is None:
            raise InvalidInput(f"No account with id {payload.account_id}.", field="account_id")
    mapping_override(actor=_actor(request), conversation=conversation, account=account)
    return conversation_detail_out(selectors.conversation_detail(conversation_id))


@channels_router.get("", response=SlackChannelListOut, summary="List Slack channels")
def channel_list(request: HttpRequest, query: Query[ChannelListQuery]) -> dict[str, Any]:
    page = selectors.channel_page(limit=query.limit, offset=query.offset)
    return {"items": [channel_out(c) for c in page.items], "count": page.count}


@channels_router.put(
    "/{channel_id}/accounts",
    response=SlackChannelOut,
    summary="Link a Slack channel to accounts",
    description="Link the channel to exactly the given accounts (an empty list unlinks all). "
    "Admins only.",
)
def channel_accounts_set(
    request: HttpRequest, channel_id: int, payload: ChannelAccountsIn
) -> dict[str, Any]:
    channel = selectors.channel_get(channel_id)
    ids = sorted(set(payload.account_ids))
    accounts = selectors.accounts_by_ids(ids)
    if len(accounts) != len(ids):
        missing = sorted(set(ids) - {a.pk for a in accounts})
        raise InvalidInput(
            f"No account with id {', '.join(str(i) for i in missing)}.", field="account_ids"
        )
    channel_set_accounts(actor=_actor(request), channel=channel, accounts=accounts)
    return channel_out(selectors.channel_get(channel_id))
