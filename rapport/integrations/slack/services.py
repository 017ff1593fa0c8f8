"""Writes of the Slack integration: cached user profiles, found channels, request cards."""

import datetime
import logging
import time
from typing import Any

from django.utils import timezone

from rapport.inbox.models import Channel
from rapport.inbox.services import channel_create
from rapport.integrations.slack.client import SlackRefused, SlackUnavailable, slack_api_call
from rapport.integrations.slack.models import SlackUser
from rapport.requests.models import Request

logger = logging.getLogger(__name__)

# Profiles change rarely; a day keeps a busy channel to a handful of users.info calls.
SLACK_USER_MAX_AGE = datetime.timedelta(days=1)


def slack_user_resolve(*, team_id: str, user_id: str) -> SlackUser:
    """Return the profile of a Slack user, fetching it through `users.info` when not fresh.

    Raise SlackUnavailable when Slack cannot answer and nothing is cached yet, so the
    event stays pending and is processed again later instead of losing its author.
    A stale profile is used as it is when the refresh fails.
    """
    cached = SlackUser.objects.filter(team_id=team_id, user_id=user_id).first()
    if cached is not None and timezone.now() - cached.fetched_at < SLACK_USER_MAX_AGE:
        return cached
    try:
        data = slack_api_call("users.info", user=user_id)
    except SlackUnavailable:
        if cached is None:
            raise
        logger.warning("Using the cached profile of Slack user %s: users.info failed", user_id)
        return cached
    except SlackRefused as exc:
        if exc.code != "user_not_found":
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
            "avatar_url": str(details.get("image_72") or details.get("image_48") or "")[:500],
            "fetched_at": timezone.now(),
        },
    )
    return user


def slack_channel_register(*, team_id: str, channel_id: str, is_private: bool) -> Channel:
    """Return the channel of an event, registering it on its first message.

    The name comes from `conversations.info`, asked once when the channel is new; when
    Slack cannot tell, the channel id stands in for the name.
    """
    channel = Channel.objects.filter(slack_team_id=team_id, slack_channel_id=channel_id).first()
    if channel is not None:
        return channel
    name = channel_id
    try:
        info = slack_api_call("conversations.info", channel=channel_id).get("channel") or {}
    except (SlackRefused, SlackUnavailable) as exc:
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


# A card being posted is marked "posting:<unix time>"; a claim older than this is taken
# over (its dispatcher died between the claim and Slack's answer).
CARD_CLAIM_SECONDS = 120
_POSTING = "posting:"


def request_card_claim(*, request: Request) -> bool:
    """Claim the first post of *request*'s triage card; False when another holds it.

    A compare-and-swap on `notification_ts` in its own short write, so no lock is held
    while Slack answers.
    """
    current = (
        Request.objects.filter(pk=request.pk).values_list("notification_ts", flat=True).first()
    )
    if current is None:
        return False
    if current.startswith(_POSTING):
        started = int(current.removeprefix(_POSTING) or 0)
        if time.time() - started < CARD_CLAIM_SECONDS:
            return False
    elif current:
        return False  # posted meanwhile: the retry updates it
    claim = f"{_POSTING}{int(time.time())}"
    return bool(
        Request.objects.filter(pk=request.pk, notification_ts=current).update(
            notification_channel="", notification_ts=claim
        )
    )


def request_card_release(*, request: Request) -> None:
    """Forget *request*'s card: its post failed, or the card was deleted in Slack."""
    Request.objects.filter(pk=request.pk).update(notification_channel="", notification_ts="")
    request.notification_channel, request.notification_ts = "", ""
