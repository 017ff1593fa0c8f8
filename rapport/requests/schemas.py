"""Shapes of requests and request settings in the JSON API."""

import datetime
from typing import Any

from ninja import Field, Schema
from pydantic import ConfigDict

from rapport.core.spec_schemas import loose_schema_field, output_field, schema_model, specs_fields
from rapport.requests.models import Request, RequestSettings
from rapport.requests.specs import CHANNEL_SPECS, WORKSPACE_SPECS


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


_RequestSettingsFields: Any = schema_model(
    "RequestSettingsFields",
    __name__,
    {
        **specs_fields(WORKSPACE_SPECS, output_field),
        "updated_at": (datetime.datetime, Field(...)),
    },
    base=Schema,
)
_RequestSettingsPatchFields: Any = schema_model(
    "RequestSettingsPatchFields",
    __name__,
    specs_fields(WORKSPACE_SPECS, loose_schema_field),
    base=Schema,
)
_ChannelOverridesPatchFields: Any = schema_model(
    "ChannelOverridesPatchFields",
    __name__,
    specs_fields(CHANNEL_SPECS, loose_schema_field, nullable=True),
    base=Schema,
)


class RequestSettingsOut(_RequestSettingsFields):
    """The workspace's request settings, as declared in `rapport.requests.specs`."""


class RequestSettingsPatchIn(_RequestSettingsPatchFields):
    """Any subset of the settings; the service checks each value."""

    model_config = ConfigDict(extra="forbid")


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


class ChannelOverridesPatchIn(_ChannelOverridesPatchFields):
    """Any subset of the channel's overrides; null inherits the workspace's value."""

    model_config = ConfigDict(extra="forbid")
