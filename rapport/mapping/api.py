"""Mapping in the JSON API: the decisions, the settings and the public domain lookup."""

import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from rapport.core.api_errors import error_responses
from rapport.core.filters import PageQuery
from rapport.inbox.schemas import MappingDecisionListOut, decision_out
from rapport.mapping import selectors, services
from rapport.mapping.models import MappingMethod, MappingOutcome, MappingSettings
from rapport.users.selectors import actor_get

router = Router(tags=["mapping"])


class DecisionListQuery(PageQuery):
    """A page of mapping decisions, narrowed by outcome, method or conversation."""

    outcome: MappingOutcome | None = None
    method: MappingMethod | None = None
    conversation_id: int | None = Field(None, ge=1, le=2**62)


class MappingSettingsOut(Schema):
    auto_create_accounts: bool
    public_domains_added: list[str]
    public_domains_removed: list[str]
    public_domains_packaged: int = Field(description="How many domains the maintained list holds.")
    updated_at: datetime.datetime | None


class MappingSettingsPatchIn(Schema):
    auto_create_accounts: bool | None = None
    public_domains_added: list[str] | None = Field(None, max_length=10_000)
    public_domains_removed: list[str] | None = Field(None, max_length=10_000)


class PublicDomainOut(Schema):
    domain: str
    public: bool
    why: str


def _settings_out(settings: MappingSettings) -> dict[str, Any]:
    return {
        "auto_create_accounts": settings.auto_create_accounts,
        "public_domains_added": list(settings.public_domains_added),
        "public_domains_removed": list(settings.public_domains_removed),
        "public_domains_packaged": selectors.public_domains_count(),
        "updated_at": settings.updated_at,
    }


@router.get("/decisions", response=MappingDecisionListOut, summary="List mapping decisions")
def decision_list(request: HttpRequest, query: Query[DecisionListQuery]) -> dict[str, Any]:
    decisions = selectors.mapping_decision_queryset(
        outcome=query.outcome or "",
        method=query.method or "",
        conversation_id=query.conversation_id,
    )
    count = decisions.count()
    page = decisions[query.offset : query.offset + query.limit]
    return {"items": [decision_out(d) for d in page], "count": count}


@router.get("/settings", response=MappingSettingsOut, summary="Get the mapping settings")
def settings_get(request: HttpRequest) -> dict[str, Any]:
    return _settings_out(selectors.mapping_settings_get())


@router.patch(
    "/settings",
    response={200: MappingSettingsOut, **error_responses(400, 403)},
    summary="Change the mapping settings",
    description="Admins only. A list replaces the admins' whole list of additions or removals.",
)
def settings_patch(request: HttpRequest, payload: MappingSettingsPatchIn) -> dict[str, Any]:
    changes = payload.model_dump(exclude_unset=True)
    settings = services.mapping_settings_update(
        actor=actor_get(request),
        auto_create_accounts=changes.get("auto_create_accounts"),
        public_domains_added=changes.get("public_domains_added"),
        public_domains_removed=changes.get("public_domains_removed"),
    )
    return _settings_out(settings)


@router.get(
    "/public-domains/{domain}",
    response={200: PublicDomainOut, **error_responses(400)},
    summary="Say whether a domain is a public mail domain",
)
def public_domain_get(request: HttpRequest, domain: str) -> dict[str, Any]:
    answer = selectors.public_domain_check(domain)
    return {"domain": answer.domain, "public": answer.public, "why": answer.why}
