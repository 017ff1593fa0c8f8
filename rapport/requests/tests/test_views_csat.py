"""The rating page a customer reaches from the link sent at closing (`views_csat.py`)."""

import re
import time

import pytest
from django.test import Client
from django.urls import reverse

from rapport.requests.csat import csat_token
from rapport.requests.models import Request, RequestActivity, RequestStatus
from rapport.requests.services import request_close, request_reopen
from rapport.requests.tests.conftest import MakeRequest
from rapport.requests.tests.kit import page_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def closed_request(make_request: MakeRequest) -> Request:
    request = make_request("Export fails", status=RequestStatus.CLOSED)
    assert request.csat_requested_at is not None
    return request


def test_the_rating_page_needs_no_login_and_stores_the_rating(
    client: Client, closed_request: Request
) -> None:
    url = reverse("requests:csat", args=[csat_token(closed_request)])
    page = client.get(url)
    assert page.status_code == 200
    assert "Export fails" in page_text(page)
    assert len(re.findall(r'name="score" value="\d"', page_text(page))) == 5

    response = client.post(url, {"score": "4", "comment": "Quick and kind"})

    assert response.status_code == 200
    assert "You rated <strong>Export fails</strong> 4 out of 5" in page_text(response)
    closed_request.refresh_from_db()
    assert closed_request.csat_score == 4
    assert closed_request.csat_comment == "Quick and kind"
    assert RequestActivity.objects.filter(request=closed_request, kind="csat").get().data == {
        "score": 4,
        "via": "email",
    }


def test_the_rating_page_keeps_csrf(closed_request: Request) -> None:
    strict = Client(enforce_csrf_checks=True)
    url = reverse("requests:csat", args=[csat_token(closed_request)])
    assert strict.post(url, {"score": "5"}).status_code == 403
    closed_request.refresh_from_db()
    assert closed_request.csat_score is None


def test_a_bad_score_is_refused_with_the_form(client: Client, closed_request: Request) -> None:
    url = reverse("requests:csat", args=[csat_token(closed_request)])
    response = client.post(url, {"score": "9"})
    assert response.status_code == 400
    assert "Select a valid choice" in page_text(response)
    closed_request.refresh_from_db()
    assert closed_request.csat_score is None


def test_an_expired_rating_link_answers_410(
    client: Client, closed_request: Request, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() - 15 * 24 * 3600)
    token = csat_token(closed_request)
    monkeypatch.setattr(time, "time", real)
    url = reverse("requests:csat", args=[token])
    for response in (client.get(url), client.post(url, {"score": "5"})):
        assert response.status_code == 410
        assert "This rating link has expired" in page_text(response)
    closed_request.refresh_from_db()
    assert closed_request.csat_score is None


def test_a_tampered_or_revoked_rating_link_answers_404(
    client: Client, closed_request: Request
) -> None:
    token = csat_token(closed_request)
    tampered = client.get(reverse("requests:csat", args=[token[:-3] + "abc"]))
    assert tampered.status_code == 404
    assert "This rating link is not valid" in page_text(tampered)
    assert client.get(reverse("requests:csat", args=["garbage"])).status_code == 404
    # Closing again asks again; the first link is revoked.
    request_reopen(request=closed_request, actor=None)
    request_close(request=closed_request, actor=None)
    revoked = client.get(reverse("requests:csat", args=[token]))
    assert revoked.status_code == 404
    assert (
        client.get(reverse("requests:csat", args=[csat_token(closed_request)])).status_code == 200
    )
