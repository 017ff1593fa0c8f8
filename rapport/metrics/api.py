"""The request metrics and SLA API: a thin face over the metrics services and selectors."""

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from rapport.accounts.models import Account
from rapport.core.api_errors import error_responses
from rapport.core.errors import InvalidInput, NotFound
from rapport.metrics import selectors, services
from rapport.metrics.schemas import (
    RequestMetricsOut,
    SlaPolicyIn,
    SlaPolicyListOut,
    SlaPolicyOut,
    SlaPolicyPatchIn,
    request_metrics_out,
    sla_policy_out,
)
from rapport.users.selectors import actor_get

router = Router(tags=["metrics"])


@router.get(
    "/accounts/{account_id}/requests",
    response={200: RequestMetricsOut, **error_responses(404)},
    summary="An account's request figures",
)
def account_request_metrics(request: HttpRequest, account_id: int) -> dict[str, Any]:
    """Requests by state, totals, top requester and source, averages and SLA breaches, now."""
    if not Account.objects.filter(pk=account_id).exists():
        raise NotFound(f"No account with id {account_id}.")
    return request_metrics_out(selectors.account_request_metrics_live(account_id))


@router.get("/sla-policies", response=SlaPolicyListOut, summary="List SLA policies")
def sla_policy_list(request: HttpRequest) -> dict[str, Any]:
    policies = [sla_policy_out(p) for p in selectors.sla_policies()]
    return {"items": policies, "count": len(policies)}


@router.post(
    "/sla-policies",
    response={201: SlaPolicyOut, **error_responses(400, 403, 409)},
    summary="Create an SLA policy",
)
def sla_policy_create_api(request: HttpRequest, payload: SlaPolicyIn) -> Status[dict[str, Any]]:
    policy = services.sla_policy_create(actor=actor_get(request), **payload.model_dump())
    return Status(201, sla_policy_out(policy))


@router.get(
    "/sla-policies/{policy_id}",
    response={200: SlaPolicyOut, **error_responses(404)},
    summary="Get an SLA policy",
)
def sla_policy_get(request: HttpRequest, policy_id: int) -> dict[str, Any]:
    return sla_policy_out(selectors.sla_policy_get(policy_id))


@router.patch(
    "/sla-policies/{policy_id}",
    response={200: SlaPolicyOut, **error_responses(400, 403, 404, 409)},
    summary="Change an SLA policy",
)
def sla_policy_patch(
    request: HttpRequest, policy_id: int, payload: SlaPolicyPatchIn
) -> dict[str, Any]:
    changes = payload.model_dump(exclude_unset=True)
    for name in ("name", "always_on", "timezone", "weekdays", "day_start", "day_end"):
        if name in changes and changes[name] is None:
            raise InvalidInput(f"{name} cannot be null.", field=name)
    policy = services.sla_policy_update(
        actor=actor_get(request), policy=selectors.sla_policy_get(policy_id), **changes
    )
    return sla_policy_out(policy)


@router.delete(
    "/sla-policies/{policy_id}",
    response={204: None, **error_responses(403, 404)},
    summary="Delete an SLA policy",
)
def sla_policy_delete_api(request: HttpRequest, policy_id: int) -> Status[None]:
    services.sla_policy_delete(actor=actor_get(request), policy=selectors.sla_policy_get(policy_id))
    return Status(204, None)
