"""Slack's Web API, reached at `settings.SLACK_API_URL`, with one error mapping.

Every call Rapport makes to Slack goes through `slack_api_call`, which turns Slack's
answers into the two outside failures: `SlackUnavailable` (HTTP 429 with Retry-After,
5xx, `ratelimited` and other temporary codes, network errors and timeouts) and
`SlackRefused` (anything waiting cannot fix: `channel_not_found`, `invalid_auth`...).
The outbox retries the first and stops at the second; enrichment leaves its event
pending on the first.
"""

from typing import Any

from django.conf import settings
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from rapport.core.outside import OutsideRefused, OutsideUnavailable
from rapport.integrations.services import integration_call_record

# Calls run outside transactions, but a worker still waits on them: fail fast.
TIMEOUT_SECONDS = 10
# Error codes Slack answers (with HTTP 200) when the fault is on its side, for a while.
TEMPORARY_ERRORS = {
    "ratelimited",
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
}
# Refusals that say the connection itself is broken (token, scopes), not one call's payload.
CONNECTION_ERRORS = {
    "not_authed",
    "invalid_auth",
    "account_inactive",
    "token_revoked",
    "token_expired",
    "missing_scope",
    "not_allowed_token_type",
    "team_access_not_granted",
}
# Web API reads that take form-encoded parameters only.
FORM_METHODS = {"users.info", "conversations.info"}


class SlackUnavailable(OutsideUnavailable):
    """Slack could not answer now (rate limit, outage); the caller should retry later."""


class SlackRefused(OutsideRefused):
    """Slack refused the call; `code` is its error code (e.g. `channel_not_found`)."""


def slack_web_client(*, with_token: bool = True, timeout: int = TIMEOUT_SECONDS) -> WebClient:
    """Return a Web API client for the configured workspace, with its bot token."""
    base_url = settings.SLACK_API_URL
    if not base_url.endswith("/"):
        base_url += "/"
    token = (settings.SLACK_BOT_TOKEN or None) if with_token else None
    return WebClient(token=token, base_url=base_url, timeout=timeout)


def slack_api_call(
    method: str, *, client: WebClient | None = None, **params: Any
) -> dict[str, Any]:
    """Call a Web API *method*; return Slack's answer or raise SlackUnavailable/SlackRefused.

    Without *client*, the bot token's client; a Bolt listener passes its own.
    """
    if client is None:
        if not settings.SLACK_BOT_TOKEN:
            raise SlackRefused(
                "Slack is not set up on this server: SLACK_BOT_TOKEN is empty.", code="no_token"
            )
        client = slack_web_client()
    try:
        if method in FORM_METHODS:
            response = client.api_call(method, http_verb="POST", params=params)
        else:
            response = client.api_call(method, json=params)
    except SlackApiError as exc:
        error = _error(method, exc)
        _record(error)
        raise error from exc
    except OSError as exc:  # network errors and timeouts
        error = SlackUnavailable(f"Slack could not be reached for {method}: {exc}")
        _record(error)
        raise error from exc
    _record(None)
    return dict(response.data) if isinstance(response.data, dict) else {}


def _record(error: SlackUnavailable | SlackRefused | None) -> None:
    """Tell the Integrations page whether Slack answered.

    A refusal about one call's payload (`channel_not_found`, `already_reacted`) still
    means Slack answered; only unavailability and a refused token or scope count as
    failures of the connection.
    """
    if isinstance(error, SlackUnavailable) or (
        isinstance(error, SlackRefused) and error.code in CONNECTION_ERRORS
    ):
        integration_call_record("slack", error=str(error))
    else:
        integration_call_record("slack")


def _error(method: str, error: SlackApiError) -> SlackUnavailable | SlackRefused:
    status = error.response.status_code
    code = str(error.response.get("error") or "")
    if status == 429 or status >= 500 or code in TEMPORARY_ERRORS:
        after = _retry_after(error)
        wait = f"; Slack asks to retry after {after:g} s" if after else ""
        if status == 429:
            message = f"Slack rate-limited {method} ({code or 'HTTP 429'}){wait}."
        else:
            message = f"Slack could not take {method} now ({code or f'HTTP {status}'}){wait}."
        return SlackUnavailable(message, after=after)
    return SlackRefused(f"Slack refused {method}: {code or f'HTTP {status}'}.", code=code)


def _retry_after(error: SlackApiError) -> float | None:
    """Return the seconds Slack asked to wait (its Retry-After header), if it said."""
    headers = error.response.headers or {}
    value = headers.get("Retry-After") or headers.get("retry-after")
    if isinstance(value, list):  # some transports keep every value of a header
        value = value[0] if value else None
    try:
        return max(float(value), 1.0) if value is not None else None
    except (TypeError, ValueError):
        return None
