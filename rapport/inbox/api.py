"""Conversations and Slack channels in the JSON API, and replies through their channel."""

from typing import TYPE_CHECKING, Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from rapport.accounts.models import Account
from rapport.accounts.selectors import accounts_by_ids
from rapport.core.api_errors import error_responses
from rapport.core.errors import InvalidInput
from rapport.core.filters import PageQuery
from rapport.inbox import selectors
from rapport.inbox.filters import ConversationFilterSet
from rapport.inbox.schemas import (
    ChannelAccountsIn,
    ChannelPatchIn,
    ConversationAccountIn,
    ConversationDetailOut,
    ConversationListOut,
    MessageListOut,
    ReplyIn,
    ReplyOut,
    SlackChannelListOut,
    SlackChannelOut,
    channel_out,
    conversation_detail_out,
    conversation_out,
    message_out,
    reply_out,
)
from rapport.inbox.services import (
    channel_set_accounts,
    channel_set_csm_by_id,
    conversation_reply,
)
from rapport.mapping.services import mapping_override
from rapport.users.selectors import actor_get

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


@conversations_router.get("", response=ConversationListOut, summary="List conversations")
def conversation_list(request: HttpRequest, query: Query[ConversationListQuery]) -> dict[str, Any]:
    filters = ConversationFilterSet.from_schema(query)
    page = selectors.conversation_page(filters, limit=query.limit, offset=query.offset)
    return {"items": [conversation_out(c) for c in page.items], "count": page.count}


@conversations_router.get(
    "/{conversation_id}",
    response={200: ConversationDetailOut, **error_responses(404)},
    summary="Get a conversation with its messages and mapping decisions",
)
def conversation_get_api(request: HttpRequest, conversation_id: int) -> dict[str, Any]:
    return conversation_detail_out(selectors.conversation_detail(conversation_id))


class MessageListQuery(Schema):
    limit: int = Field(200, ge=1, le=500)
    offset: int = Field(0, ge=0, le=10_000_000)


@conversations_router.get(
    "/{conversation_id}/messages",
    response={200: MessageListOut, **error_responses(404)},
    summary="List a conversation's messages, with the team replies' delivery status",
    description=(
        "Messages oldest first. A team reply carries `status`: `queued` until its channel "
        "takes it, then `sent`, or `failed` with the reason in `error`."
    ),
)
def conversation_messages(
    request: HttpRequest, conversation_id: int, query: Query[MessageListQuery]
) -> dict[str, Any]:
    page = selectors.conversation_messages_page(
        conversation_id, limit=query.limit, offset=query.offset
    )
    return {"items": [message_out(m) for m in page.items], "count": page.count}


@conversations_router.post(
    "/{conversation_id}/replies",
    response={201: ReplyOut, **error_responses(400, 403, 404)},
    summary="Reply to a conversation through its channel",
    description=(
        "Store the reply and send it through the conversation's channel: an email to the "
        "customer (threaded), a post in the Slack thread, the web chat widget, or, for API "
        "conversations, the outbound webhook when one is set. Answers 201 with the reply's "
        "`status` (`queued` until the channel takes it; web chat replies are `sent` at once)."
    ),
)
def conversation_reply_create(
    request: HttpRequest, conversation_id: int, payload: ReplyIn
) -> Status[dict[str, Any]]:
    conversation = selectors.conversation_get(conversation_id)
    message = conversation_reply(
        actor=actor_get(request), conversation=conversation, text=payload.text
    )
    return Status(201, reply_out(message))


@conversations_router.post(
    "/{conversation_id}/account",
    response={200: ConversationDetailOut, **error_responses(400, 403, 404)},
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
    mapping_override(actor=actor_get(request), conversation=conversation, account=account)
    return conversation_detail_out(selectors.conversation_detail(conversation_id))


@channels_router.get("", response=SlackChannelListOut, summary="List Slack channels")
def channel_list(request: HttpRequest, query: Query[ChannelListQuery]) -> dict[str, Any]:
    page = selectors.channel_page(limit=query.limit, offset=query.offset)
    return {"items": [channel_out(c) for c in page.items], "count": page.count}


@channels_router.put(
    "/{channel_id}/accounts",
    response={200: SlackChannelOut, **error_responses(400, 403, 404)},
    summary="Link a Slack channel to accounts",
    description="Link the channel to exactly the given accounts (an empty list unlinks all). "
    "Admins only.",
)
def channel_accounts_set(
    request: HttpRequest, channel_id: int, payload: ChannelAccountsIn
) -> dict[str, Any]:
    channel = selectors.channel_get(channel_id)
    ids = sorted(set(payload.account_ids))
    accounts = accounts_by_ids(ids)
    if len(accounts) != len(ids):
        missing = sorted(set(ids) - {a.pk for a in accounts})
        raise InvalidInput(
            f"No account with id {', '.join(str(i) for i in missing)}.", field="account_ids"
        )
    channel_set_accounts(actor=actor_get(request), channel=channel, accounts=accounts)
    return channel_out(selectors.channel_get(channel_id))


@channels_router.get(
    "/{channel_id}",
    response={200: SlackChannelOut, **error_responses(404)},
    summary="Get a Slack channel",
)
def channel_read(request: HttpRequest, channel_id: int) -> dict[str, Any]:
    return channel_out(selectors.channel_get(channel_id))


@channels_router.patch(
    "/{channel_id}",
    response={200: SlackChannelOut, **error_responses(400, 403, 404)},
    summary="Change a Slack channel's CSM",
    description="`csm`: an active member's id to look after the channel, or null to clear it. "
    "New requests in the channel go to that member while the request setting "
    '"assign to the channel\'s CSM" is on. Admins only.',
)
def channel_patch(request: HttpRequest, channel_id: int, payload: ChannelPatchIn) -> dict[str, Any]:
    actor = actor_get(request)
    channel = selectors.channel_get(channel_id)
    changes = payload.model_dump(exclude_unset=True)
    if "csm" in changes:
        channel_set_csm_by_id(actor=actor, channel=channel, csm=changes["csm"])
    return channel_out(selectors.channel_get(channel_id))
