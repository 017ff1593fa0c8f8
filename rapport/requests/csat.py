"""Signed links that let a customer rate one closed request without logging in.

A link names one request and the moment its survey was sent; it expires after
`CSAT_LINK_DAYS`, and asking again (a reopened request closed a second time) revokes
the links sent before.
"""

import datetime

from django.conf import settings
from django.core import signing
from django.urls import reverse

from rapport.core.errors import InvalidInput, NotFound
from rapport.requests.models import Request

CSAT_LINK_DAYS = 14
_SALT = "rapport.requests.csat"


def csat_token(request: Request) -> str:
    """Return the token of *request*'s current survey."""
    if request.csat_requested_at is None:
        raise InvalidInput("This request's customer was not asked for a rating.")
    return signing.dumps(
        [request.pk, request.csat_requested_at.timestamp()], salt=_SALT, compress=True
    )


def csat_url(request: Request) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("requests:csat", args=[csat_token(request)])


def csat_request_from_token(token: str) -> Request:
    """Return the request a survey link is for; refuse an expired, revoked or forged one."""
    try:
        pk, asked = signing.loads(
            token, salt=_SALT, max_age=datetime.timedelta(days=CSAT_LINK_DAYS)
        )
    except signing.SignatureExpired as exc:
        raise InvalidInput("This rating link has expired.") from exc
    except (signing.BadSignature, ValueError, TypeError) as exc:
        raise NotFound("This rating link is not valid.") from exc
    request = Request.objects.filter(pk=pk).first()
    if (
        request is None
        or request.csat_requested_at is None
        or abs(request.csat_requested_at.timestamp() - float(asked)) > 0.001
    ):
        raise NotFound("This rating link is no longer valid.")
    return request
