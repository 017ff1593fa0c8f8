"""The pages reached by a signed link, with no login: the AE's handoff and the customer portal.

Each page shows one account only, the one its link is for. The portal never shows
internal notes, the handoff answers, or that an account is at risk.
"""

from collections.abc import Callable
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views import View

from rapport.accounts.models import AccountStatus
from rapport.core.errors import NotFound, ServiceError
from rapport.onboarding.links import LinkClosed
from rapport.onboarding.models import AccessLink
from rapport.onboarding.selectors import plan_view
from rapport.onboarding.services import (
    PORTAL_STAGES,
    csm_candidates,
    handoff_answers_save,
    handoff_csm,
    handoff_link_open,
    handoff_submit,
    portal_link_open,
    portal_task_complete,
)


def _closed(request: HttpRequest, exc: ServiceError) -> HttpResponse:
    return render(
        request, "onboarding/link_closed.html", {"message": exc.message}, status=exc.status
    )


def _opened(open_link: Callable[[str], AccessLink], raw: str) -> AccessLink:
    try:
        return open_link(raw)
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
            link = _opened(handoff_link_open, token)
        except LinkClosed as exc:
            return _closed(request, exc)
        context = self._context(link)
        if context["view"].plan.handoff_submitted_at is not None:
            return render(request, "onboarding/handoff_done.html", context)
        return render(request, self.template_name, context)

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        try:
            link = _opened(handoff_link_open, token)
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
                csm = handoff_csm(request.POST.get("csm"))
                handoff_submit(plan=plan, answers=answers, csm=csm)
                link.account.refresh_from_db()
                return render(request, "onboarding/handoff_done.html", self._context(link))
            handoff_answers_save(plan=plan, answers=answers)
        except ServiceError as exc:
            context = self._context(link, error=exc, posted=answers)
            return render(request, self.template_name, context, status=400)
        context = self._context(link, saved=True)
        return render(request, self.template_name, context)


class PortalView(View):
    """The customer's page: their plan, its progress, their CSM and their own tasks."""

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        try:
            link = _opened(portal_link_open, token)
        except LinkClosed as exc:
            return _closed(request, exc)
        view = plan_view(link.account)
        if view is None:
            raise Http404("There is no onboarding plan to show.")
        context = {
            "account": link.account,
            "view": view,
            "stage": PORTAL_STAGES[AccountStatus(link.account.status)],
            "tasks": view.customer_tasks(),
            "token": token,
        }
        return render(request, "onboarding/portal.html", context)


class PortalTaskCompleteView(View):
    """The customer checks off one of their tasks."""

    def post(self, request: HttpRequest, token: str, task_id: int) -> HttpResponse:
        try:
            link = _opened(portal_link_open, token)
            portal_task_complete(link=link, task_id=task_id)
        except LinkClosed as exc:
            return _closed(request, exc)
        except NotFound as exc:
            raise Http404(exc.message) from None
        return redirect("onboarding:portal", token=token)
