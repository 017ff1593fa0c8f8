"""The directory's face in the accounts API: GET /api/v1/accounts, filtered and sorted.

Ninja serves each path from one router, and the accounts router creates accounts on the
same path, so `routes_add` puts the list on that router rather than on one of its own.
"""

from typing import TYPE_CHECKING, Any

from django.http import HttpRequest
from ninja import Query, Router

from rapport.accounts import selectors as account_selectors
from rapport.accounts.schemas import AccountListOut, account_out
from rapport.core.filters import PageQuery
from rapport.directory import selectors
from rapport.directory.filters import AccountFilterSet

if TYPE_CHECKING:
    AccountListQuery = PageQuery
else:
    # The filters are the filter set's own declaration, as the directory page parses them.
    AccountListQuery = AccountFilterSet.query_schema("AccountListQuery", base=PageQuery)


def account_list(request: HttpRequest, query: Query[AccountListQuery]) -> dict[str, Any]:
    # The `field.<key>` filters have names no schema can list: they come from the query
    # string itself, and only they do.
    filters = AccountFilterSet.from_schema(
        query, account_selectors.field_definitions(), extra=request.GET
    )
    page = selectors.account_page(filters, limit=query.limit, offset=query.offset)
    return {"items": [account_out(a) for a in page.items], "count": page.count}


def routes_add(router: Router) -> None:
    """Serve the account list as GET on the root of the accounts *router*."""
    router.add_api_operation(
        "",
        ["GET"],
        account_list,
        response=AccountListOut,
        summary="List accounts",
        description=AccountFilterSet.extra_help,
    )
