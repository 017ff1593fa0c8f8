"""Shapes of requests and request settings in the JSON API."""

import datetime
from typing import Any

from ninja import Field, Schema
from pydantic import ConfigDict

from rapport.requests.models import Request, RequestSettings


class NamedRef(Schema):
    id: int
    name: str


class MemberRef(Schema):
    id: int
    email: str
    name: str


class RequestRequesterOut(Schema):
    name: str
    email: str
    contact_id: int | None


class RequestTicketOut(Schema):
    address: str
    reference: str
    sent_at: datetime.datetime


class CsatOut(Schema):
    score: int | None
    comment: str
    requested_at: datetime.datetime | None
    rated_at: datetime.datetime | None


class RequestOut(Schema):
    id: int
    title: str
    status: str = Field(description="open, waiting (on the customer), pending (on hold) or closed.")
    source: str
    account: NamedRef | None
    channel: NamedRef | None
    requester: RequestRequesterOut
    assignee: MemberRef | None
    created_at: datetime.datetime
    first_response_at: datetime.datetime | None
    first_response_due_at: datetime.datetime | None
    resolution_due_at: datetime.datetime | None
    closed_at: datetime.datetime | None
    ticket: RequestTicketOut | None
    csat: CsatOut | None
    url: str


class RequestListOut(Schema):
    items: list[RequestOut]
    count: int


class RequestActionIn(Schema):
    action: str = Field(
        description="take, assign, hold, wait, close, reopen or ticket.", max_length=32
    )
    assignee_id: int | None = Field(
        None, description="For assign: the member to assign; null unassigns."
    )


class RequestPatchIn(Schema):
    status: str | None = Field(None, max_length=32)
    assignee_id: int | None = Field(None, description="A member's id; null unassigns.")


class RequestSettingsOut(Schema):
    detection_enabled: bool
    detection_mode: str
    grouping_window_seconds: int
    assign_first_responder: bool
    assign_csm: bool
    dm_assignee: bool
    emoji_enabled: bool
    emoji_assigned: str
    emoji_closed: str
    status_updates: bool
    auto_close_days: int
    nudge_after_hours: int
    csat_enabled: bool
    triage_channel_id: str
    ticket_address: str
    updated_at: datetime.datetime


class RequestSettingsPatchIn(Schema):
    """Any subset of the settings; the service checks each value."""

    model_config = ConfigDict(extra="forbid")

    detection_enabled: Any = None
    detection_mode: Any = None
    grouping_window_seconds: Any = None
    assign_first_responder: Any = None
    assign_csm: Any = None
    dm_assignee: Any = None
    emoji_enabled: Any = None
    emoji_assigned: Any = None
    emoji_closed: Any = None
    status_updates: Any = None
    auto_close_days: Any = None
    nudge_after_hours: Any = None
    csat_enabled: Any = None
    triage_channel_id: Any = None
    ticket_address: Any = None


def request_out(request: Request) -> dict[str, Any]:
    """Return *request* as the API shows it (account, channel and assignee already joined)."""
    account, channel, assignee = request.account, request.channel, request.assignee
    return {
        "id": request.pk,
        "title": request.title,
        "status": request.status,
        "source": request.source,
        "account": {"id": account.pk, "name": account.name} if account else None,
        "channel": {"id": channel.pk, "name": channel.name} if channel else None,
        "requester": {
            "name": request.requester_name,
            "email": request.requester_email,
            "contact_id": request.requester_id,
        },
        "assignee": (
            {"id": assignee.pk, "email": assignee.email, "name": assignee.name}
            if assignee
            else None
        ),
        "created_at": request.created_at,
        "first_response_at": request.first_response_at,
        "first_response_due_at": request.first_response_due_at,
        "resolution_due_at": request.resolution_due_at,
        "closed_at": request.closed_at,
        "ticket": (
            {
                "address": request.ticket_address,
                "reference": request.ticket_reference,
                "sent_at": request.ticket_sent_at,
            }
            if request.ticket_sent_at
            else None
        ),
        "csat": (
            {
                "score": request.csat_score,
                "comment": request.csat_comment,
                "requested_at": request.csat_requested_at,
                "rated_at": request.csat_at,
            }
            if request.csat_requested_at or request.csat_score
            else None
        ),
        "url": request.get_absolute_url(),
    }


def request_settings_out(settings: RequestSettings) -> dict[str, Any]:
    return {name: getattr(settings, name) for name in RequestSettingsOut.model_fields}


class ChannelOverridesOut(Schema):
    channel: NamedRef
    overrides: dict[str, Any] = Field(description="The channel's own values; null inherits.")
    effective: dict[str, Any] = Field(description="The settings in effect for the channel.")


class ChannelOverridesPatchIn(Schema):
    """Any subset of the channel's overrides; null inherits the workspace's value."""

    model_config = ConfigDict(extra="forbid")

    detection_enabled: Any = None
    detection_mode: Any = None
    grouping_window_seconds: Any = None
    assign_first_responder: Any = None
    assign_csm: Any = None
    dm_assignee: Any = None
    emoji_enabled: Any = None
    status_updates: Any = None
    auto_close_days: Any = None
    nudge_after_hours: Any = None
    csat_enabled: Any = None
    triage_channel_id: Any = None
