"""Shapes of tickets and conversations in the JSON API."""

import datetime
from typing import Any

from ninja import Field, Schema

from rapport.core.api_errors import RowId

# --- conversations, channels and mapping decisions ----------------------------------------


class AccountRefOut(Schema):
    id: int
    name: str


class ActorOut(Schema):
    id: int
    name: str
    email: str


class SlackChannelRefOut(Schema):
    id: int
    name: str


class RequesterOut(Schema):
    email: str
    name: str
    contact_id: int | None
    identity: str = Field(
        description="`unverified`: the email is only what the requester typed (a web chat "
        "visitor the site did not sign), so it made no contact and no account; `verified`: "
        "the site's backend signed it; empty where the channel itself vouches (Slack, email, "
        "API)."
    )


class ConversationMappingOut(Schema):
    method: str = Field(
        description="How the account in force was found; `manual` after an override."
    )
    outcome: str = Field(description="linked, created, conflict or unmatched.")


class ConversationOut(Schema):
    id: int
    source: str
    channel: SlackChannelRefOut | None
    account: AccountRefOut | None
    requester: RequesterOut
    subject: str
    first_line: str
    mapping: ConversationMappingOut
    message_count: int
    created_at: datetime.datetime
    last_message_at: datetime.datetime | None


class ConversationListOut(Schema):
    items: list[ConversationOut]
    count: int


class AttachmentOut(Schema):
    filename: str = ""
    content_type: str = ""
    size: int | None = None


class MessageOut(Schema):
    id: int
    direction: str = Field(description="inbound (from the customer) or outbound (from the team).")
    author_email: str
    author_name: str
    author_user_id: int | None
    text: str
    attachments: list[AttachmentOut]
    sent_at: datetime.datetime = Field(
        description="When the message was sent; for a reply still queued, when it was written."
    )
    edited_at: datetime.datetime | None
    deleted_at: datetime.datetime | None
    status: str | None = Field(
        description="A team message's delivery: queued, sent or failed; null for a customer's."
    )
    error: str = Field(description="Why a reply failed, or why it waits to be tried again.")


class MessageListOut(Schema):
    items: list[MessageOut]
    count: int


class ReplyIn(Schema):
    text: str = Field(min_length=1, max_length=100_000, description="The reply, as plain text.")


class ReplyOut(Schema):
    id: int
    conversation_id: int
    status: str = Field(description="queued until the channel takes it, then sent or failed.")
    error: str


class CandidateOut(Schema):
    id: int
    name: str
    via: str = ""


class MappingDecisionOut(Schema):
    id: int
    conversation_id: int
    method: str
    outcome: str
    account: AccountRefOut | None
    previous_account: AccountRefOut | None
    candidates: list[CandidateOut]
    reason: str
    requester_domain: str
    actor: ActorOut | None = Field(description="The person behind a manual decision.")
    overridden: bool = Field(description="A later manual decision replaced this one.")
    resolved: bool = Field(description="For a conflict: someone settled it.")
    created_at: datetime.datetime


class MappingDecisionListOut(Schema):
    items: list[MappingDecisionOut]
    count: int


class ConversationDetailOut(ConversationOut):
    messages: list[MessageOut]
    mapping_decisions: list[MappingDecisionOut] = Field(
        description="Every decision, newest first; the first one is in force."
    )


class ConversationAccountIn(Schema):
    account_id: int | None = Field(
        ..., ge=1, le=2**62, description="The account to move the conversation to; null unlinks it."
    )


class SlackChannelOut(Schema):
    id: int
    name: str
    slack_team_id: str
    slack_channel_id: str
    is_private: bool
    accounts: list[AccountRefOut]
    csm: ActorOut | None = Field(
        description="The member who looks after the channel; new requests there go to them "
        'while the "assign to the channel\'s CSM" automation is on.'
    )


class SlackChannelListOut(Schema):
    items: list[SlackChannelOut]
    count: int


class ChannelAccountsIn(Schema):
    account_ids: list[RowId] = Field(max_length=500, description="Exactly the accounts to link.")


class ChannelPatchIn(Schema):
    csm: int | None = Field(
        None,
        ge=1,
        le=2**62,
        strict=True,  # a JSON true is no member id
        description="An active member's id to be the channel's CSM; null clears it.",
    )


def _account_ref(account: Any) -> dict[str, Any] | None:
    return {"id": account.pk, "name": account.name} if account is not None else None


def _member_ref(member: Any) -> dict[str, Any] | None:
    if member is None:
        return None
    return {"id": member.pk, "name": member.display_name, "email": member.email}


def decision_out(decision: Any) -> dict[str, Any]:
    """Return a mapping decision as the API shows it (its accounts and actor fetched)."""
    actor = decision.actor
    return {
        "id": decision.pk,
        "conversation_id": decision.conversation_id,
        "method": decision.method,
        "outcome": decision.outcome,
        "account": _account_ref(decision.account),
        "previous_account": _account_ref(decision.previous_account),
        "candidates": [
            {"id": c["id"], "name": str(c.get("name") or ""), "via": str(c.get("via") or "")}
            for c in decision.candidates
            if isinstance(c, dict) and isinstance(c.get("id"), int)
        ],
        "reason": decision.reason,
        "requester_domain": decision.requester_domain,
        "actor": _member_ref(actor),
        "overridden": decision.overridden,
        "resolved": decision.resolved,
        "created_at": decision.created_at,
    }


def conversation_out(conversation: Any) -> dict[str, Any]:
    """Return a conversation as the API lists it (account, channel and first line fetched)."""
    channel = conversation.channel
    return {
        "id": conversation.pk,
        "source": conversation.source,
        "channel": {"id": channel.pk, "name": channel.name} if channel is not None else None,
        "account": _account_ref(conversation.account),
        "requester": {
            "email": conversation.requester_email,
            "name": conversation.requester_name,
            "contact_id": conversation.requester_id,
            "identity": conversation.requester_identity,
        },
        "subject": conversation.subject,
        "first_line": getattr(conversation, "first_line", None) or "",
        "mapping": {
            "method": conversation.mapping_method,
            "outcome": conversation.mapping_outcome,
        },
        "message_count": conversation.message_count,
        "created_at": conversation.created_at,
        "last_message_at": conversation.last_message_at,
    }


def conversation_detail_out(conversation: Any) -> dict[str, Any]:
    """Return a conversation with its messages and decisions (prefetched by the selector)."""
    messages = getattr(conversation, "messages_shown", [])
    first = next((m.text for m in messages), "")
    return conversation_out(conversation) | {
        "first_line": first[:200],
        "messages": [message_out(m) for m in messages],
        "mapping_decisions": [
            decision_out(d) for d in getattr(conversation, "decisions_shown", [])
        ],
    }


def message_out(message: Any) -> dict[str, Any]:
    """Return one message as the API shows it, with its delivery status."""
    return {
        "id": message.pk,
        "direction": message.direction,
        "author_email": message.author_email,
        "author_name": message.author_name,
        "author_user_id": message.author_user_id,
        "text": message.text,
        "attachments": [
            {
                "filename": str(a.get("filename") or a.get("name") or ""),
                "content_type": str(a.get("content_type") or a.get("mimetype") or ""),
                "size": a.get("size") if isinstance(a.get("size"), int) else None,
            }
            for a in message.attachments
            if isinstance(a, dict)
        ],
        "sent_at": message.sent_at,
        "edited_at": message.edited_at,
        "deleted_at": message.deleted_at,
        "status": message.delivery_status or None,
        "error": message.delivery_error,
    }


def reply_out(message: Any) -> dict[str, Any]:
    return {
        "id": message.pk,
        "conversation_id": message.conversation_id,
        "status": message.delivery_status,
        "error": message.delivery_error,
    }


def channel_out(channel: Any) -> dict[str, Any]:
    """Return a Slack channel with its linked accounts (prefetched as `accounts_shown`)."""
    return {
        "id": channel.pk,
        "name": channel.name,
        "slack_team_id": channel.slack_team_id,
        "slack_channel_id": channel.slack_channel_id,
        "is_private": channel.is_private,
        "accounts": [_account_ref(a) for a in getattr(channel, "accounts_shown", [])],
        "csm": _member_ref(channel.csm),
    }
