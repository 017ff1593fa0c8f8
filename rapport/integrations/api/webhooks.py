"""Sign and send outbound webhook calls: HMAC-SHA256 over "timestamp.body".

A receiver checks `X-Rapport-Signature` (hex) against HMAC-SHA256(secret,
X-Rapport-Timestamp + "." + raw body) and refuses timestamps more than five minutes
away from its clock; docs/integrations.md shows how.
"""

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from email.utils import parsedate_to_datetime
from typing import Any

from django.utils import timezone

from rapport.core.outside import OutsideRefused, OutsideUnavailable
from rapport.integrations.services import integration_call_record

TIMEOUT_SECONDS = 10
USER_AGENT = "Rapport-Webhook/1"


class WebhookRefused(OutsideRefused):
    """The receiver refused the call (a 4xx other than 408 and 429): waiting will not help."""


class WebhookUnavailable(OutsideUnavailable):
    """The receiver could not take the call now (down, 5xx, 429, a timeout)."""


def webhook_signature(secret: str, timestamp: str, body: bytes) -> str:
    """Return the hex HMAC-SHA256 of `timestamp + "." + body` under *secret*."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Treat a redirect as the receiver's answer: a signed POST is never replayed elsewhere."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def webhook_post(
    url: str, secret: str, event: dict[str, Any], *, timeout: float = TIMEOUT_SECONDS
) -> int:
    """POST *event* as JSON to *url*, signed; return the HTTP status of a 2xx answer.

    Every outcome is recorded for the Integrations page: any failure of the receiver
    (down, 5xx, a refusal such as a wrong URL or signature) is one of the connection.
    """
    try:
        status = _post(url, secret, event, timeout)
    except (WebhookRefused, WebhookUnavailable) as exc:
        integration_call_record("api", error=str(exc))
        raise
    integration_call_record("api")
    return status


def _post(url: str, secret: str, event: dict[str, Any], timeout: float) -> int:
    body = json.dumps(event, separators=(",", ":"), sort_keys=True).encode()
    timestamp = str(int(time.time()))
    request = urllib.request.Request(  # noqa: S310 - the admin sets an http(s) URL
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Rapport-Timestamp": timestamp,
            "X-Rapport-Signature": webhook_signature(secret, timestamp, body),
        },
    )
    try:
        with _opener.open(request, timeout=timeout) as response:
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        status = exc.code
        if status in (408, 429) or status >= 500:
            raise WebhookUnavailable(
                f"The webhook answered HTTP {status}.", after=_retry_after(exc.headers)
            ) from exc
        raise WebhookRefused(f"The webhook refused the call: HTTP {status}.") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise WebhookUnavailable(f"The webhook could not be reached: {exc}") from exc
    if not 200 <= status < 300:
        raise WebhookRefused(f"The webhook answered HTTP {status}, not 2xx.")
    return status


def _retry_after(headers: Any) -> float | None:
    value = headers.get("Retry-After") if headers else None
    if not value:
        return None
    try:
        return max(float(value), 1.0)
    except ValueError:
        pass
    try:
        return max((parsedate_to_datetime(value) - timezone.now()).total_seconds(), 1.0)
    except (TypeError, ValueError):
        return None
