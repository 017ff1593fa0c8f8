"""The requests API: a thin face over the request services, selectors and filter set.

The list takes the board's filters (`status`, `account`, `assignee` with "me" and
"unassigned", `channel`, `source`, `q`) and `limit` / `offset`. Errors answer
`{"error": ...}` with the status of the service error (400, 403, 404).
"""

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.http import HttpRequest
from ninja import Query, Router

from rapport.core.api_errors import error_responses
from rapport.core.errors import InvalidInput
from rapport.core.filters import PageQuery
from rapport.requests import selectors
from rapport.requests.config import request_config_resolve, request_settings_get
from rapport.requests.filters import RequestFilterSet
from rapport.requests.forms import request_action_with_message
from rapport.requests.models import RequestStatus
from rapport.requests.schemas import (
    ChannelOverridesOut,
    ChannelOverridesPatchIn,
    RequestActionIn,
    RequestListOut,
    RequestOut,
    RequestPatchIn,
    RequestSettingsOut,
    RequestSettingsPatchIn,
    request_out,
    request_settings_out,
)
from rapport.requests.services import (
    channel_request_settings_update,
    request_assign,
    request_settings_update,
    request_status_set,
)
from rapport.requests.specs import CHANNEL_FIELDS
from rapport.users.selectors import actor_get

router = Router(tags=["requests"])
settings_router = Router(tags=["request settings"])


if TYPE_CHECKING:
    RequestListQuery = PageQuery
else:
    # The filters are the filter set's own declaration, as the board parses them.
    RequestListQuery = RequestFilterSet.query_schema("RequestListQuery", base=PageQuery)


def _detail(request_id: int) -> dict[str, Any]:
    return request_out(selectors.request_detail(request_id))


@router.get("", response=RequestListOut, summary="List requests")
def request_list(request: HttpRequest, query: Query[RequestListQuery]) -> dict[str, Any]:
    filters = RequestFilterSet.from_schema(query, user_id=actor_get(request).pk)
    page = selectors.request_page(filters, limit=query.limit, offset=query.offset)
    return {"items": [request_out(r) for r in page.items], "count": page.count}


@router.get(
    "/{request_id}", response={200: RequestOut, **error_responses(404)}, summary="Get a request"
)
def request_get_api(request: HttpRequest, request_id: int) -> dict[str, Any]:
    return _detail(request_id)


@router.post(
    "/{request_id}/actions",
    response={200: RequestOut, **error_responses(400, 403, 404)},
    summary="Act on a request",
)
@transaction.atomic
def request_act(request: HttpRequest, request_id: int, payload: RequestActionIn) -> dict[str, Any]:
    """Take, assign (`assignee_id`, null unassigns), hold, wait, close, reopen, or ticket."""
    item = selectors.request_get(request_id)
    request_action_with_message(
        request=item,
        action=payload.action,
        actor=actor_get(request),
        assignee_id=payload.assignee_id,
        via="api",
    )
    return _detail(request_id)


@router.patch(
    "/{request_id}",
    response={200: RequestOut, **error_responses(400, 403, 404)},
    summary="Change a request's state or assignee",
)
@transaction.atomic
def request_patch(request: HttpRequest, request_id: int, payload: RequestPatchIn) -> dict[str, Any]:
    """Set `status` and/or `assignee_id`; a bad value changes nothing."""
    actor = actor_get(request)
    item = selectors.request_get(request_id)
    changes = payload.model_dump(exclude_unset=True)
    # Check every value before the first write, so a bad one changes nothing.
    status = changes.get("status")
    if "status" in changes and status not in RequestStatus.values:
        raise InvalidInput(f"{status!r} is not a request state.", field="status")
    assignee = (
        selectors.member_active_get(changes["assignee_id"]) if "assignee_id" in changes else None
    )
    if "assignee_id" in changes:
        item = request_assign(request=item, assignee=assignee, actor=actor, via="api")
    if status is not None:
        item = request_status_set(request=item, status=status, actor=actor, via="api")
    return _detail(request_id)


@settings_router.get("", response=RequestSettingsOut, summary="Get the request settings")
def request_settings_read(request: HttpRequest) -> dict[str, Any]:
    return request_settings_out(request_settings_get())


@settings_router.patch(
    "",
    response={200: RequestSettingsOut, **error_responses(400, 403)},
    summary="Change the request settings",
)
def request_settings_patch(request: HttpRequest, payload: RequestSettingsPatchIn) -> dict[str, Any]:
    """Change any subset of the settings (admins only; members get 403)."""
    values = payload.model_dump(exclude_unset=True)
    settings = request_settings_update(actor=actor_get(request), values=values)
    return request_settings_out(settings)


def _channel_overrides(channel_id: int) -> dict[str, Any]:
    channel = selectors.channel_with_settings_get(channel_id)
    overrides = getattr(channel, "request_settings", None)
    return {
        "channel": {"id": channel.pk, "name": channel.name},
        "overrides": {
            name: getattr(overrides, name) if overrides is not None else None
            for name in CHANNEL_FIELDS
        },
        "effective": asdict(request_config_resolve(request_settings_get(), overrides)),
    }


@settings_router.get(
    "/channels/{channel_id}",
    response={200: ChannelOverridesOut, **error_responses(404)},
    summary="A channel's overrides",
)
def channel_overrides_read(request: HttpRequest, channel_id: int) -> dict[str, Any]:
    return _channel_overrides(channel_id)


@settings_router.patch(
    "/channels/{channel_id}",
    response={200: ChannelOverridesOut, **error_responses(400, 403, 404)},
    summary="Change a channel's overrides",
)
def channel_overrides_patch(
    request: HttpRequest, channel_id: int, payload: ChannelOverridesPatchIn
) -> dict[str, Any]:
    """Change any subset of a channel's overrides (admins only); null inherits again."""
    channel = selectors.channel_with_settings_get(channel_id)
    channel_request_settings_update(
        actor=actor_get(request), channel=channel, values=payload.model_dump(exclude_unset=True)
    )
    return _channel_overrides(channel_id)
