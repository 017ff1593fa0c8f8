"""Slack's Web API, reached at `settings.SLACK_API_URL` with the bot token."""

from django.conf import settings
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

# A worker holds its batch's transaction open during a call: fail fast instead.
TIMEOUT_SECONDS = 10
# Error codes Slack answers (with HTTP 200) when the fault is on its side, for a while.
TEMPORARY_ERRORS = {
    "ratelimited",
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
}


class SlackUnavailable(Exception):
    """Slack could not answer now (rate limit, outage); the caller should retry later."""


def slack_web_client(*, with_token: bool = True) -> WebClient:
    """Return a Web API client for the configured workspace, with its bot token."""
    base_url = settings.SLACK_API_URL
    if not base_url.endswith("/"):
        base_url += "/"
    token = (settings.SLACK_BOT_TOKEN or None) if with_token else None
    return WebClient(token=token, base_url=base_url, timeout=TIMEOUT_SECONDS)


def slack_error_is_temporary(error: SlackApiError) -> bool:
    """Tell whether a Web API error may go away by itself (rate limit, server error)."""
    status = error.response.status_code
    return status == 429 or status >= 500 or error.response.get("error") in TEMPORARY_ERRORS


def slack_retry_after(error: SlackApiError) -> float | None:
    """Return the seconds Slack asked to wait (its Retry-After header), if it said."""
    headers = error.response.headers or {}
    value = headers.get("Retry-After") or headers.get("retry-after")
    if isinstance(value, list):  # some transports keep every value of a header
        value = value[0] if value else None
    try:
        return max(float(value), 1.0) if value is not None else None
    except (TypeError, ValueError):
        return None


def slack_unavailable(method: str, error: SlackApiError) -> SlackUnavailable:
    """Describe a temporary Web API failure, with Slack's Retry-After when it sent one."""
    retry_after = slack_retry_after(error)
    if error.response.status_code == 429:
        wait = f"; Slack asks to retry after {retry_after:g} s" if retry_after else ""
        return SlackUnavailable(f"Slack rate-limited {method}{wait}.")
    return SlackUnavailable(
        f"Slack answered {method} with HTTP {error.response.status_code} "
        f"({error.response.get('error') or 'no error code'})."
    )
