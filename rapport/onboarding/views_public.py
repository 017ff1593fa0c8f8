"""The pages reached by a signed link, with no login: the AE's handoff and the customer portal.

Each page shows one account only, the one its link is for. The portal never shows
internal notes, the handoff answers, or that an account is at risk.
"""

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views import View

from rapport.accounts.models import AccountStatus
from rapport.core.errors import NotFound, ServiceError
from rapport.onboarding.links import LinkClosed, link_lookup, link_open
from rapport.onboarding.models import AccessLink, LinkKind, Plan
from rapport.onboarding.selectors import plan_view
from rapport.onboarding.services import csm_candidates, handoff_answers_save, handoff_submit
from rapport.tasks.models import Task
from rapport.tasks.services import task_complete
from rapport.users.models import User


def _closed(request: HttpRequest, exc: ServiceError) -> HttpResponse:
    return render(
        request, "onboarding/link_closed.html", {"message": exc.message}, status=exc.status
    )


def _open(raw: str, kind: LinkKind) -> AccessLink:
    try:
        return link_open(raw, kind)
    except NotFound as exc:
        raise Http404(exc.message) from None


class HandoffView(View):
    """The AE reviews the drafted answers, picks the CSM and submits the handoff."""

    template_name = "onboarding/handoff.html"

    def _context(self, link: AccessLink, **extra: Any) -> dict[str, Any]:
        view = plan_view(link.account)
        if view is None:
            raise Http404("This account has no onboarding plan.")
        return {"view": view, "account": link.account, "csms": csm_candidates(), **extra}

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        try:
            link = _open(token, LinkKind.HANDOFF)
        except LinkClosed:
            spent = link_lookup(token, LinkKind.HANDOFF)
            plan = Plan.objects.filter(account_id=spent.account_id).first() if spent else None
            if plan is not None and plan.handoff_submitted_at is not None:
                exc = LinkClosed(
                    f"This handoff was submitted on {plan.handoff_submitted_at:%Y-%m-%d}. "
                    "Thank you."
                )
            return _closed(request, exc)
        context = self._context(link)
        if context["view"].plan.handoff_submitted_at is not None:
            return render(request, "onboarding/handoff_done.html", context)
        return render(request, self.template_name, context)

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        try:
            link = _open(token, LinkKind.HANDOFF)
        except LinkClosed as exc:
            return _closed(request, exc)
        context = self._context(link)
        plan = context["view"].plan
        answers = {
            a.question.key: request.POST.get(f"answer-{a.question.key}", "")
            for a in context["view"].answers
        }
        try:
            if request.POST.get("action") == "submit":
                csm = User.objects.filter(
                    pk=_whole(request.POST.get("csm")), is_active=True, is_csm=True
                ).first()
                if csm is None:
                    raise NotFound("Choose the CSM who takes the account over.", field="csm")
                handoff_submit(plan=plan, answers=answers, csm=csm)
                link.account.refresh_from_db()
                return render(request, "onboarding/handoff_done.html", self._context(link))
            handoff_answers_save(plan=plan, answers=answers)
        except ServiceError as exc:
            context = self._context(link, error=exc, posted=answers)
            return render(request, self.template_name, context, status=400)
        context = self._context(link, saved=True)
        return render(request, self.template_name, context)


def _whole(value: str | None) -> int:
    return int(value) if value and value.isdigit() and len(value) < 19 else 0


CUSTOMER_STAGES = {
    AccountStatus.PENDING_HANDOFF: "Getting started",
    AccountStatus.ACTIVE: "Onboarding in progress",
    AccountStatus.AT_RISK: "Onboarding in progress",
    AccountStatus.COMPLETED: "Launched",
}


class PortalView(View):
    """The customer's page: their plan, its progress, their CSM and their own tasks."""

    def _link(self, token: str) -> AccessLink:
        link = _open(token, LinkKind.PORTAL)
        if link.account.status not in CUSTOMER_STAGES:
            raise LinkClosed("This page is no longer available.")
        return link

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        try:
            link = self._link(token)
        except LinkClosed as exc:
            return _closed(request, exc)
        view = plan_view(link.account)
        if view is None:
            raise Http404("There is no onboarding plan to show.")
        context = {
            "account": link.account,
            "view": view,
            "stage": CUSTOMER_STAGES[AccountStatus(link.account.status)],
            "tasks": view.customer_tasks(),
            "token": token,
        }
        return render(request, "onboarding/portal.html", context)


class PortalTaskCompleteView(View):
    """The customer checks off one of their tasks."""

    def post(self, request: HttpRequest, token: str, task_id: int) -> HttpResponse:
        try:
            link = PortalView()._link(token)
        except LinkClosed as exc:
            return _closed(request, exc)
        # Only this account's tasks that the customer may complete exist here.
        task = Task.objects.filter(
            pk=task_id, account=link.account, customer_visible=True, customer_completable=True
        ).first()
        if task is None:
            raise Http404("No such task.")
        contact = link.email or "the customer"
        task_complete(task=task, customer_label=f"{contact} (customer)")
        return redirect("onboarding:portal", token=token)
