"""The onboarding pages of members: the list, a new customer, a plan, and templates."""

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from rapport.accounts.models import Account, AccountStatus
from rapport.audit.selectors import audit_entries_for
from rapport.core.errors import ServiceError
from rapport.core.pagination import Page, page_number_parse
from rapport.core.web import HtmxLoginRequiredMixin, form_add_service_error, next_url
from rapport.onboarding import selectors, services, services_templates, template_text
from rapport.onboarding.forms import (
    CsmForm,
    OnboardingCreateForm,
    OnboardingFilterForm,
    StatusForm,
    TemplateForm,
)
from rapport.onboarding.models import LinkKind, Plan, PlanSource, Template
from rapport.tasks.models import Task
from rapport.tasks.services import task_toggle
from rapport.users.selectors import actor_get

PAGE_SIZE = 50


class OnboardingListView(HtmxLoginRequiredMixin):
    """The accounts in onboarding, with counts per status, filters, search and sort."""

    def get(self, request: HttpRequest) -> HttpResponse:
        form = OnboardingFilterForm(request.GET)
        valid = form.is_valid()
        data = form.cleaned_data if valid else {}
        try:
            page_number = page_number_parse(request.GET)
        except ServiceError as exc:
            form.add_error(None, exc.message)
            valid, page_number = False, 1
        statuses = tuple(s for s in request.GET.getlist("status") if s in AccountStatus.values)
        filters = selectors.OnboardingFilters(
            statuses=statuses,
            q=data.get("q") or "",
            arr_min=data.get("arr_min"),
            arr_max=data.get("arr_max"),
            template=data.get("template") or "",
            sort=data.get("sort") or "-created",
        )
        plans = selectors.onboarding_plans(filters)
        params = request.GET.copy()
        params.pop("sort", None)
        params.pop("page", None)
        counts = selectors.onboarding_counts()
        offset = (page_number - 1) * PAGE_SIZE
        page = Page(
            items=list(plans[offset : offset + PAGE_SIZE]),
            count=plans.count(),
            limit=PAGE_SIZE,
            offset=offset,
        )
        here = params.copy()
        here["sort"] = filters.sort

        def page_url(number: int) -> str:
            query = here.copy()
            query["page"] = str(number)
            return f"?{query.urlencode()}"

        context = {
            "form": form,
            "page": page,
            "plans": page.items,
            "count": page.count,
            "previous_url": page_url(page_number - 1) if page_number > 1 else "",
            "next_url": page_url(page_number + 1) if page.has_next else "",
            "counts": [
                (status, AccountStatus(status).label, counts.get(status, 0))
                for status in selectors.LIST_STATUSES
            ],
            "total": sum(counts.values()),
            "statuses": statuses,
            "sort": filters.sort,
            "query": params.urlencode(),
        }
        return render(request, "onboarding/list.html", context, status=200 if valid else 400)


class OnboardingCreateView(HtmxLoginRequiredMixin):
    """Onboard a new customer by hand."""

    template_name = "onboarding/new.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        form = OnboardingCreateForm(initial={"template": Template.objects.first()})
        return render(request, self.template_name, {"form": form})

    def post(self, request: HttpRequest) -> HttpResponse:
        form = OnboardingCreateForm(request.POST)
        status = 400
        if form.is_valid():
            values = {k: v for k, v in form.cleaned_data.items() if k != "template"}
            values["template"] = str(form.cleaned_data["template"].pk)
            try:
                plan = services.onboarding_create(
                    actor=actor_get(request), values=values, source=PlanSource.MANUAL
                )
            except ServiceError as exc:
                form_add_service_error(form, exc)
                status = exc.status
            else:
                messages.success(
                    request,
                    f"“{plan.account.name}” waits for its handoff; {plan.ae_email} got the link.",
                )
                return redirect("onboarding:plan", account_id=plan.account_id)
        return render(request, self.template_name, {"form": form}, status=status)


def _plan_context(request: HttpRequest, account: Account, **extra: Any) -> dict[str, Any]:
    view = selectors.plan_view(account)
    if view is None:
        raise Http404(f"The account “{account.name}” has no onboarding plan.")
    history = (
        audit_entries_for(account)[:20]
        if hasattr(audit_entries_for(account), "__getitem__")
        else []
    )
    return {
        "account": account,
        "view": view,
        "status_form": extra.pop("status_form", None)
        or StatusForm(initial={"status": account.status}),
        "csm_form": extra.pop("csm_form", None) or CsmForm(initial={"csm": account.csm}),
        "history": history,
        "today": timezone.localdate(),
        **extra,
    }


class PlanView(HtmxLoginRequiredMixin):
    """An account's onboarding plan: progress, milestones and tasks, status, CSM, handoff."""

    def get(self, request: HttpRequest, account_id: int) -> HttpResponse:
        account = get_object_or_404(Account.objects.select_related("csm"), pk=account_id)
        return render(request, "onboarding/plan.html", _plan_context(request, account))


class StatusChangeView(HtmxLoginRequiredMixin):
    def post(self, request: HttpRequest, account_id: int) -> HttpResponse:
        account = get_object_or_404(Account, pk=account_id)
        form = StatusForm(request.POST)
        if form.is_valid():
            try:
                services.account_status_change(
                    actor=actor_get(request),
                    account=account,
                    status=form.cleaned_data["status"],
                    note=form.cleaned_data["note"],
                )
            except ServiceError as exc:
                form_add_service_error(form, exc)
            else:
                messages.success(request, "Status changed.")
                return redirect(next_url(request, reverse("onboarding:plan", args=[account.pk])))
        context = _plan_context(request, account, status_form=form)
        return render(request, "onboarding/plan.html", context, status=400)


class CsmAssignView(HtmxLoginRequiredMixin):
    def post(self, request: HttpRequest, account_id: int) -> HttpResponse:
        account = get_object_or_404(Account, pk=account_id)
        form = CsmForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.account_csm_assign(
                    account=account,
                    csm=data["csm"],
                    actor=actor_get(request),
                    notify_csm=data["notify_csm"],
                    notify_customer=data["notify_customer"],
                    note=data["note"],
                )
            except ServiceError as exc:
                form_add_service_error(form, exc)
            else:
                messages.success(request, f"{data['csm'].display_name} is the CSM now.")
                return redirect("onboarding:plan", account_id=account.pk)
        context = _plan_context(request, account, csm_form=form)
        return render(request, "onboarding/plan.html", context, status=400)


class LinkSendView(HtmxLoginRequiredMixin):
    """Send the AE a new handoff link, or the customer a new portal link."""

    def post(self, request: HttpRequest, account_id: int, kind: str) -> HttpResponse:
        account = get_object_or_404(Account, pk=account_id)
        plan = get_object_or_404(Plan, account=account)
        actor = actor_get(request)
        if kind == LinkKind.HANDOFF:
            services.handoff_link_renew(plan=plan, actor=actor)
            messages.success(request, f"Sent {plan.ae_email} a new handoff link.")
        elif kind == LinkKind.PORTAL:
            raw = services.portal_open(account=account, actor=actor)
            if raw is None:
                messages.error(request, "The plan has no primary contact to send the portal to.")
            else:
                messages.success(request, "Sent the primary contact a new portal link.")
        else:
            raise Http404("No such link.")
        return redirect("onboarding:plan", account_id=account.pk)


class TaskToggleView(HtmxLoginRequiredMixin):
    """Check a task off, or open it again."""

    def post(self, request: HttpRequest, task_id: int) -> HttpResponse:
        task = get_object_or_404(Task.objects.select_related("account"), pk=task_id)
        task_toggle(task=task, actor=actor_get(request))
        return redirect(next_url(request, reverse("onboarding:plan", args=[task.account_id])))


class TemplateListView(HtmxLoginRequiredMixin):
    def get(self, request: HttpRequest) -> HttpResponse:
        return render(
            request, "onboarding/templates.html", {"templates": selectors.templates_list()}
        )


class TemplateEditView(HtmxLoginRequiredMixin):
    """Create a template, or edit one: saving new milestones or questions makes a version."""

    template_name = "onboarding/template_edit.html"

    def _template(self, template_id: int | None) -> Template | None:
        return get_object_or_404(Template, pk=template_id) if template_id else None

    def get(self, request: HttpRequest, template_id: int | None = None) -> HttpResponse:
        template = self._template(template_id)
        initial = {}
        if template is not None:
            current = services_templates.template_current_version(template)
            initial = {
                "name": template.name,
                "description": template.description,
                "milestones": template_text.milestones_text(current.milestones),
                "questions": template_text.questions_text(current.questions),
            }
        form = TemplateForm(initial=initial)
        return render(request, self.template_name, {"form": form, "template": template})

    def post(self, request: HttpRequest, template_id: int | None = None) -> HttpResponse:
        template = self._template(template_id)
        form = TemplateForm(request.POST)
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            previous = (
                services_templates.template_current_version(template).questions if template else []
            )
            try:
                milestones = template_text.milestones_parse(data["milestones"])
                questions = template_text.questions_parse(data["questions"], previous)
                if template is None:
                    template = services_templates.template_create(
                        actor=actor_get(request),
                        name=data["name"],
                        description=data["description"],
                        milestones=milestones,
                        questions=questions,
                    )
                    messages.success(request, f"Created the template “{template.name}”.")
                else:
                    version = services_templates.template_edit(
                        actor=actor_get(request),
                        template=template,
                        name=data["name"],
                        description=data["description"],
                        milestones=milestones,
                        questions=questions,
                    )
                    messages.success(
                        request,
                        f"Saved “{template.name}” as version {version.number}; plans made "
                        "before keep theirs.",
                    )
            except ServiceError as exc:
                form_add_service_error(form, exc)
                status = exc.status
            else:
                return redirect("onboarding:template", template_id=template.pk)
        context = {"form": form, "template": template}
        return render(request, self.template_name, context, status=status)


class TemplateDetailView(HtmxLoginRequiredMixin):
    """A template's current version, and what each version changed from the one before."""

    def get(self, request: HttpRequest, template_id: int) -> HttpResponse:
        template = get_object_or_404(Template, pk=template_id)
        versions = list(template.versions.select_related("created_by").order_by("number"))
        changes = []
        previous = None
        for version in versions:
            changes.append((version, selectors.versions_compare(previous, version)))
            previous = version
        current = versions[-1] if versions else None
        context = {
            "template": template,
            "current": current,
            "versions": list(reversed(changes)),
            "plan_count": template.plans.count(),
        }
        return render(request, "onboarding/template.html", context)
