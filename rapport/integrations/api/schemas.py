"""Shapes of API tickets in the JSON API."""

from ninja import Field, Schema


class TicketIn(Schema):
    requester_email: str = Field(min_length=3, max_length=254)
    requester_name: str = Field("", max_length=200)
    account_id: int | None = Field(None, ge=1, le=2**62)
    customer_ref: str = Field("", max_length=100)
    slack_channel: str = Field("", max_length=80, description="A Slack channel id or name.")
    subject: str = Field("", max_length=500)
    body: str = Field("", max_length=100_000)


class MappingOut(Schema):
    method: str
    outcome: str
    reason: str


class TicketOut(Schema):
    id: int
    account_id: int | None
    mapping: MappingOut
