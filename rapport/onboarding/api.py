"""The onboarding API: new customers, their plans, status and CSM, and templates.

A thin face over `rapport.onboarding.services` and `selectors`, as the web pages are.
"""

from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from rapport.accounts.models import Account
from rapport.core.api_errors import ID_MAX, RowId, error_responses
from rapport.core.errors import NotFound
from rapport.onboarding import selectors, services, services_templates
from rapport.onboarding.models import PlanSource, Template, TemplateVersion
from rapport.onboarding.schemas import (
    CsmIn,
    OnboardingCreateIn,
    OnboardingListOut,
    OnboardingOut,
    StatusIn,
    TaskStateOut,
    TemplateCreateIn,
    TemplateListOut,
    TemplateOut,
    TemplatePatchIn,
    VersionOut,
)
from rapport.tasks.models import Task
from rapport.tasks.services import task_complete, task_reopen
from rapport.users.models import User
from rapport.users.selectors import actor_get

router = Router(tags=["onboarding"])
tasks_router = Router(tags=["tasks"])


def _account(account_id: int) -> Account:
    account = Account.objects.filter(pk=account_id).first()
    if account is None:
        raise NotFound(f"No account has the id {account_id}.")
    return account


def _detail(account_id: int) -> dict[str, Any]:
    view = selectors.plan_view(_account(account_id))
    if view is None:
        raise NotFound(f"The account {account_id} has no onboarding plan.")
    return selectors.plan_json(view)


@router.post(
    "/accounts",
    response={201: OnboardingOut, **error_responses(400, 404, 409)},
    summary="Onboard a new customer",
)
def onboarding_create_api(
    request: HttpRequest, payload: OnboardingCreateIn
) -> Status[dict[str, Any]]:
    values = payload.model_dump(exclude_unset=True)
    plan = services.onboarding_create(
        actor=actor_get(request), values=values, source=PlanSource.API
    )
    return Status(201, _detail(plan.account_id))


class OnboardingListQuery(Schema):
    status: list[str] = Field(
        [], description="pending_handoff, active, at_risk, completed, churned."
    )
    q: str = Field("", max_length=200, description="Company name, primary contact name or email.")
    arr_min: Decimal | None = Field(None, ge=0)
    arr_max: Decimal | None = Field(None, ge=0)
    template: str = Field("", max_length=200)
    sort: str = Field("-created", pattern=rf"^-?({'|'.join(selectors.SORTS)})$")
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=ID_MAX)


@router.get("/accounts", response=OnboardingListOut, summary="List accounts in onboarding")
def onboarding_list_api(request: HttpRequest, query: Query[OnboardingListQuery]) -> dict[str, Any]:
    filters = selectors.OnboardingFilters(
        statuses=tuple(query.status),
        q=query.q,
        arr_min=query.arr_min,
        arr_max=query.arr_max,
        template=query.template,
        sort=query.sort,
    )
    plans = selectors.onboarding_plans(filters)
    count = plans.count()
    page = plans[query.offset : query.offset + query.limit]
    return {
        "items": [
            {
                "id": plan.account_id,
                "company_name": plan.account.name,
                "status": plan.account.status,
                "arr": plan.account.arr,
                "close_date": plan.account.close_date,
                "template": plan.template_name,
                "primary_contact_email": plan.primary_contact.email
                if plan.primary_contact
                else None,
                "csm": plan.account.csm.display_name if plan.account.csm else None,
                "progress": selectors.plan_progress(plan),
            }
            for plan in page
        ],
        "count": count,
        "counts": selectors.onboarding_counts(),
    }


@router.get(
    "/accounts/{account_id}",
    response={200: OnboardingOut, **error_responses(404)},
    summary="Get an account's onboarding plan",
)
def onboarding_get_api(request: HttpRequest, account_id: RowId) -> dict[str, Any]:
    return _detail(account_id)


@router.post(
    "/accounts/{account_id}/status",
    response={200: OnboardingOut, **error_responses(400, 404)},
    summary="Change an account's status, with an optional note",
)
def onboarding_status_api(
    request: HttpRequest, account_id: RowId, payload: StatusIn
) -> dict[str, Any]:
    services.account_status_change(
        actor=actor_get(request),
        account=_account(account_id),
        status=payload.status,
        note=payload.note,
    )
    return _detail(account_id)


@router.post(
    "/accounts/{account_id}/csm",
    response={200: OnboardingOut, **error_responses(400, 404)},
    summary="Assign or reassign the account's CSM",
)
def onboarding_csm_api(request: HttpRequest, account_id: RowId, payload: CsmIn) -> dict[str, Any]:
    csm = User.objects.filter(pk=payload.csm_id).first()
    if csm is None:
        raise NotFound(f"No member has the id {payload.csm_id}.", field="csm_id")
    services.account_csm_assign(
        account=_account(account_id),
        csm=csm,
        actor=actor_get(request),
        notify_csm=payload.notify_csm,
        notify_customer=payload.notify_customer,
        note=payload.note,
    )
    return _detail(account_id)


# --- templates -------------------------------------------------------------------------------


def _template(template_id: int) -> Template:
    template = Template.objects.filter(pk=template_id).first()
    if template is None:
        raise NotFound(f"No onboarding template has the id {template_id}.")
    return template


def _template_out(template_id: int) -> dict[str, Any]:
    found = selectors.templates_current([template_id])
    if not found:
        raise NotFound(f"No onboarding template has the id {template_id}.")
    return _template_json(*found[0])


def _template_json(template: Template, version: TemplateVersion) -> dict[str, Any]:
    return {
        "id": template.pk,
        "name": template.name,
        "description": template.description,
        "version": version.number,
        "milestones": version.milestones,
        "questions": version.questions,
        "plan_count": getattr(template, "plan_count", 0),
        "created_at": template.created_at,
        "updated_at": template.updated_at,
    }


@router.get("/templates", response=TemplateListOut, summary="List onboarding templates")
def template_list_api(request: HttpRequest) -> dict[str, Any]:
    found = selectors.templates_current()
    return {"items": [_template_json(t, v) for t, v in found], "count": len(found)}


@router.post(
    "/templates",
    response={201: TemplateOut, **error_responses(400, 409)},
    summary="Create an onboarding template",
)
def template_create_api(request: HttpRequest, payload: TemplateCreateIn) -> Status[dict[str, Any]]:
    data = payload.model_dump()
    template = services_templates.template_create(
        actor=actor_get(request),
        name=data["name"],
        description=data["description"],
        milestones=data["milestones"],
        questions=data["questions"],
    )
    return Status(201, _template_out(template.pk))


@router.get(
    "/templates/{template_id}",
    response={200: TemplateOut, **error_responses(404)},
    summary="Get an onboarding template, with its milestones and questions",
)
def template_get_api(request: HttpRequest, template_id: RowId) -> dict[str, Any]:
    return _template_out(template_id)


@router.patch(
    "/templates/{template_id}",
    response={200: TemplateOut, **error_responses(400, 404, 409)},
    summary="Edit a template: a new version; plans already made keep theirs",
)
def template_patch_api(
    request: HttpRequest, template_id: RowId, payload: TemplatePatchIn
) -> dict[str, Any]:
    data = payload.model_dump(exclude_unset=True)
    template = _template(template_id)
    services_templates.template_edit(
        actor=actor_get(request),
        template=template,
        name=data.get("name"),
        description=data.get("description"),
        milestones=data.get("milestones"),
        questions=data.get("questions"),
    )
    return _template_out(template.pk)


@router.get(
    "/templates/{template_id}/versions/{number}",
    response={200: VersionOut, **error_responses(404)},
    summary="Get one version of a template, with what it changed from the one before",
)
def template_version_api(request: HttpRequest, template_id: RowId, number: RowId) -> dict[str, Any]:
    template = _template(template_id)
    version = selectors.template_version(template, number)
    if version is None:
        raise NotFound(f"The template {template_id} has no version {number}.")
    previous = selectors.template_version(template, number - 1)
    return {
        "number": version.number,
        "created_at": version.created_at,
        "milestones": version.milestones,
        "questions": version.questions,
        "changes": selectors.versions_compare(previous, version),
    }


# --- tasks -----------------------------------------------------------------------------------


def _task(task_id: int) -> Task:
    task = Task.objects.select_related("account").filter(pk=task_id).first()
    if task is None:
        raise NotFound(f"No task has the id {task_id}.")
    return task


@tasks_router.post(
    "/{task_id}/complete",
    response={200: TaskStateOut, **error_responses(403, 404)},
    summary="Check a task off",
)
def task_complete_api(request: HttpRequest, task_id: RowId) -> dict[str, Any]:
    task = task_complete(task=_task(task_id), actor=actor_get(request))
    return {"id": task.pk, "status": task.status, "completed_by": task.completed_by_label}


@tasks_router.post(
    "/{task_id}/reopen",
    response={200: TaskStateOut, **error_responses(403, 404)},
    summary="Open a completed task again",
)
def task_reopen_api(request: HttpRequest, task_id: RowId) -> dict[str, Any]:
    task = task_reopen(task=_task(task_id), actor=actor_get(request))
    return {"id": task.pk, "status": task.status, "completed_by": task.completed_by_label}
