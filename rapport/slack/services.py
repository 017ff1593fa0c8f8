"""Writes of the Slack integration: cached user profiles, found channels, request cards."""

import datetime
import logging
from typing import Any

from django.utils import timezone
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from rapport.inbox.models import Channel
from rapport.inbox.services import channel_create
from rapport.requests.models import Request
from rapport.slack.models import SlackUser
from rapport.slack.web_api import SlackUnavailable, slack_error_is_temporary, slack_unavailable

logger = logging.getLogger(__name__)

# Profiles change rarely; a day keeps a busy channel to a handful of users.info calls.
SLACK_USER_MAX_AGE = datetime.timedelta(days=1)


def _call(client: WebClient, method: str, **params: Any) -> dict[str, Any]:
    """Call a Web API read; raise SlackUnavailable when Slack may answer later."""
    try:
        response = client.api_call(method, http_verb="POST", params=params)
    except SlackApiError as exc:
        if slack_error_is_temporary(exc):
            raise slack_unavailable(method, exc) from exc
        raise
    except OSError as exc:  # network errors and timeouts
        raise SlackUnavailable(f"Slack could not be reached for {method}: {exc}") from exc
    return dict(response.data) if isinstance(response.data, dict) else {}


def slack_user_resolve(*, team_id: str, user_id: str, client: WebClient) -> SlackUser:
    """Return the profile of a Slack user, fetching it through `users.info` when not fresh.

    Raise SlackUnavailable when Slack cannot answer and nothing is cached yet, so the
    event stays pending and is processed again later instead of losing its author.
    A stale profile is used as it is when the refresh fails.
    """
    cached = SlackUser.objects.filter(team_id=team_id, user_id=user_id).first()
    if cached is not None and timezone.now() - cached.fetched_at < SLACK_USER_MAX_AGE:
        return cached
    try:
        data = _call(client, "users.info", user=user_id)
    except SlackUnavailable:
        if cached is None:
            raise
        logger.warning("Using the cached profile of Slack user %s: users.info failed", user_id)
        return cached
    except SlackApiError as exc:
        if exc.response.get("error") != "user_not_found":
            raise  # a setup problem (token, scopes): the ingest records it and retries
        # A user of another organisation that Slack will not describe: keep the message,
        # with the user id as the only name.
        data = {"user": {"id": user_id}}
    return slack_user_store(team_id=team_id, user_id=user_id, profile=data.get("user") or {})


def slack_user_store(*, team_id: str, user_id: str, profile: dict[str, Any]) -> SlackUser:
    """Store the `user` object of a `users.info` answer as the cached profile."""
    details = profile.get("profile") or {}
    real_name = (
        profile.get("real_name")
        or details.get("real_name")
        or details.get("display_name")
        or profile.get("name")
        or ""
    )
    user, _ = SlackUser.objects.update_or_create(
        team_id=team_id,
        user_id=user_id,
        defaults={
            "email": (details.get("email") or "").strip().lower()[:254],
            "real_name": real_name.strip()[:200],
            "is_bot": bool(profile.get("is_bot") or profile.get("is_app_user")),
            "fetched_at": timezone.now(),
        },
    )
    return user


def slack_channel_register(
    *, team_id: str, channel_id: str, is_private: bool, client: WebClient
) -> Channel:
    """Return the channel of an event, registering it on its first message.

    The name comes from `conversations.info`, asked once when the channel is new; when
    Slack cannot tell, the channel id stands in for the name.
    """
    channel = Channel.objects.filter(slack_team_id=team_id, slack_channel_id=channel_id).first()
    if channel is not None:
        return channel
    name = channel_id
    try:
        info = _call(client, "conversations.info", channel=channel_id).get("channel") or {}
    except (SlackApiError, SlackUnavailable) as exc:
        logger.warning("conversations.info failed for %s; naming it by its id: %s", channel_id, exc)
    else:
        name = info.get("name") or channel_id
        is_private = bool(info.get("is_private", is_private))
    return channel_create(
        slack_team_id=team_id, slack_channel_id=channel_id, name=name[:80], is_private=is_private
    )


def request_notification_store(*, request: Request, channel: str, ts: str) -> None:
    """Remember where the triage channel's card of *request* is, to update it later.

    Not an activity of the request: its `updated_at` stays as it is.
    """
    Request.objects.filter(pk=request.pk).update(notification_channel=channel, notification_ts=ts)
    request.notification_channel, request.notification_ts = channel, ts
