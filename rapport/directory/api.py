"""The directory's face in the accounts API: GET /api/v1/accounts, filtered and sorted.

Ninja serves each path from one router, and the accounts router creates accounts on the
same path, so `routes_add` puts the list on that router rather than on one of its own.
"""

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from rapport.accounts import selectors as account_selectors
from rapport.accounts.schemas import AccountListOut, account_out
from rapport.directory import selectors
from rapport.directory.filters import AccountFilterSet


class AccountListQuery(Schema):
    """Filters shared with the directory page; `field.<key>` filters are accepted too."""

    q: str = Field("", max_length=200, description="Name, domain, contact email or CRM company.")
    owner: list[str] = Field(default_factory=list, description="User id, or 'none'.")
    status: list[str] = Field(default_factory=list)
    source: list[str] = Field(default_factory=list)
    industry: list[str] = Field(default_factory=list)
    crm_status: list[str] = Field(
        default_factory=list, description="not_mapped, synced or failing."
    )
    has_channel: str | None = Field(None, description="yes or no.")
    arr_min: str | None = None
    arr_max: str | None = None
    has_open_requests: str | None = Field(None, description="yes or no.")
    open_requests_min: str | None = Field(None, description="At least this many open requests.")
    csat_below: str | None = Field(None, description="Average CSAT below this score.")
    has_sla_breaches: str | None = Field(None, description="yes or no.")
    last_request_after: str | None = Field(None, description="On or after this date.")
    last_request_before: str | None = Field(None, description="Before this date.")
    sort: str = Field("name", description="A column key; prefix '-' to sort descending.")
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=10_000_000)


def account_list(request: HttpRequest, query: Query[AccountListQuery]) -> dict[str, Any]:
    filters = AccountFilterSet.from_params(request.GET, account_selectors.field_definitions())
    page = selectors.account_page(filters, limit=query.limit, offset=query.offset)
    return {"items": [account_out(a) for a in page.items], "count": page.count}


def routes_add(router: Router) -> None:
    """Serve the account list as GET on the root of the accounts *router*."""
    router.add_api_operation(
        "", ["GET"], account_list, response=AccountListOut, summary="List accounts"
    )
