"""The public page where a customer rates a closed request, from the signed link they got.

No login: the signed token names one request and expires. An expired link answers 410,
a forged or revoked one 404, each with a page that says so; never a 500.
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views import View

from rapport.core.errors import InvalidInput, ServiceError
from rapport.requests.csat import csat_request_from_token
from rapport.requests.forms import CsatForm
from rapport.requests.models import Request
from rapport.requests.services import request_csat_record

SCORES = (
    (1, "Very unhappy"),
    (2, "Unhappy"),
    (3, "Neutral"),
    (4, "Happy"),
    (5, "Very happy"),
)


class RequestCsatView(View):
    """Show the rating buttons (GET) and store the customer's rating (POST)."""

    def _invalid(self, request: HttpRequest, exc: ServiceError) -> HttpResponse:
        # An expired link is gone for good (410); a forged or revoked one was never valid.
        status = 410 if isinstance(exc, InvalidInput) else exc.status
        context = {"message": exc.message, "expired": status == 410}
        return render(request, "requests/csat_invalid.html", context, status=status)

    def _form(
        self, request: HttpRequest, item: Request, form: CsatForm, status: int = 200
    ) -> HttpResponse:
        context = {"item": item, "form": form, "scores": SCORES}
        return render(request, "requests/csat.html", context, status=status)

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        try:
            item = csat_request_from_token(token)
        except ServiceError as exc:
            return self._invalid(request, exc)
        return self._form(request, item, CsatForm(initial={"score": item.csat_score}))

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        try:
            item = csat_request_from_token(token)
        except ServiceError as exc:
            return self._invalid(request, exc)
        form = CsatForm(request.POST)
        if not form.is_valid():
            return self._form(request, item, form, status=400)
        try:
            item = request_csat_record(
                request=item,
                score=form.cleaned_data["score"],
                comment=form.cleaned_data["comment"],
                via="email",
            )
        except ServiceError as exc:
            form.add_error("comment" if exc.field == "comment" else None, exc.message)
            return self._form(request, item, form, status=exc.status)
        return render(request, "requests/csat_thanks.html", {"item": item})
