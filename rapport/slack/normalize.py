"""Turn a stored Slack Events API envelope into a message of its thread.

Registered as the "slack" normalizer; `SlackConfig.ready` imports this module.
"""

import datetime
import re
from collections.abc import Callable
from typing import Any

from rapport.inbox.ingest import EventRejected, IncomingMessage, normalizer
from rapport.inbox.models import InboundEvent, Source
from rapport.slack.selectors import member_for_slack_user
from rapport.slack.services import slack_channel_register, slack_user_resolve
from rapport.slack.web_api import SlackUnavailable, slack_web_client
from rapport.users.services import user_slack_link_by_email

# Subtypes that carry something a person wrote. Every other subtype is channel noise
# (joins, leaves, topic and name changes, pins, bot posts) and is ignored.
CONTENT_SUBTYPES = {None, "", "file_share", "thread_broadcast", "me_message"}
# The app subscribes to channel messages only; direct messages are not customer threads.
CHANNEL_TYPES = {None, "channel", "group"}
SLACKBOT = "USLACKBOT"
SUBJECT_LENGTH = 120
# Processing attempts that wait for Slack to describe an unknown author (users.info);
# the recovery job retries about once a minute.
PROFILE_ATTEMPTS = 3


def slack_ts_to_datetime(ts: str) -> datetime.datetime:
    """Convert a Slack `ts` ("1712345678.000200") to an aware UTC datetime, exactly."""
    seconds, _, fraction = str(ts).partition(".")
    try:
        moment = datetime.datetime.fromtimestamp(int(seconds), tz=datetime.UTC)
        micro = int((fraction or "0").ljust(6, "0")[:6])
    except ValueError:
        raise EventRejected(
            f"Slack sent a message timestamp Rapport cannot read: {ts!r}."
        ) from None
    return moment + datetime.timedelta(microseconds=micro)


_SLACK_REF = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")


def slack_text_plain(text: str) -> str:
    """Return Slack message text as a person reads it: links by their label, no markup."""

    def plain(match: re.Match[str]) -> str:
        target, label = match.group(1), match.group(2)
        if label:
            return ("#" if target.startswith("#C") else "") + label
        if target.startswith(("@", "#")):
            return target
        if target.startswith("!"):
            return "@" + target[1:].split("^")[0]
        return target.removeprefix("mailto:")

    text = _SLACK_REF.sub(plain, text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _subject(text: str) -> str:
    text = slack_text_plain(text)
    line = text.strip().splitlines()[0].strip() if text.strip() else ""
    return line if len(line) <= SUBJECT_LENGTH else line[: SUBJECT_LENGTH - 1].rstrip() + "…"


def _attachments(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "filename": file.get("name") or file.get("title") or "",
            "content_type": file.get("mimetype") or "",
            "size": file.get("size") or 0,
        }
        for file in message.get("files") or []
        if isinstance(file, dict)
    ]


@normalizer(Source.SLACK)
def slack_normalize(event: InboundEvent) -> IncomingMessage | None:
    """Turn a stored Slack message event into a new, edited or deleted message.

    Return None for events that are not a person's message (bots, joins, unfurls).
    """
    envelope = event.payload
    message = envelope.get("event") or {}
    team_id = envelope.get("team_id") or message.get("team") or ""
    channel_id = message.get("channel") or ""
    if message.get("type") != "message":
        return None
    if not team_id or not channel_id or not message.get("ts"):
        raise EventRejected("The Slack message event has no team, channel or timestamp.")
    if message.get("channel_type") not in CHANNEL_TYPES:
        return None

    def key(ts: str) -> str:
        return f"{team_id}:{channel_id}:{ts}"

    subtype = message.get("subtype")
    if subtype == "message_changed":
        return _edit(message, key)
    if subtype == "message_deleted":
        deleted_ts = message.get("deleted_ts") or (message.get("previous_message") or {}).get("ts")
        if not deleted_ts:
            raise EventRejected("The Slack deletion event does not say which message went.")
        return IncomingMessage(
            source=Source.SLACK,
            action="delete",
            external_id=key(deleted_ts),
            thread_key=key(deleted_ts),
            text="",
            sent_at=slack_ts_to_datetime(message.get("event_ts") or message["ts"]),
        )
    if subtype not in CONTENT_SUBTYPES or message.get("bot_id"):
        return None
    user_id = message.get("user") or ""
    if not user_id or user_id == SLACKBOT:
        return None

    client = slack_web_client()
    incoming = IncomingMessage(
        source=Source.SLACK,
        external_id=key(message["ts"]),
        thread_key=key(message.get("thread_ts") or message["ts"]),
        text=message.get("text") or "",
        subject=_subject(message.get("text") or ""),
        sent_at=slack_ts_to_datetime(message["ts"]),
        author_external_id=user_id,
        attachments=_attachments(message),
    )
    member = member_for_slack_user(user_id)
    if member is not None:
        incoming.author_user_id = member.pk
        incoming.author_email = member.email
        incoming.author_name = member.display_name
    else:
        try:
            profile = slack_user_resolve(team_id=team_id, user_id=user_id, client=client)
        except SlackUnavailable:
            # Retry while Slack may answer soon; after that, take the message in without
            # the author's profile rather than lose it: the channel still maps it.
            if event.attempts < PROFILE_ATTEMPTS:
                raise
            profile = None
        if profile is not None and profile.is_bot:
            return None
        incoming.author_email = profile.email if profile else ""
        incoming.author_name = (profile.real_name if profile else "") or user_id
        member = user_slack_link_by_email(email=incoming.author_email, slack_user_id=user_id)
        if member is not None:
            incoming.author_user_id = member.pk
            incoming.author_name = member.display_name
    incoming.channel = slack_channel_register(
        team_id=team_id,
        channel_id=channel_id,
        is_private=message.get("channel_type") == "group",
        client=client,
    )
    return incoming


def _edit(message: dict[str, Any], key: Callable[[str], str]) -> IncomingMessage | None:
    """Turn a `message_changed` event into an edit, when a person changed the text.

    Slack also sends `message_changed` when a reply is added to a thread or a link
    unfurls; those carry no `edited` stamp and are ignored.
    """
    changed = message.get("message") or {}
    edited = changed.get("edited") or {}
    if not changed.get("ts") or not edited or changed.get("bot_id"):
        return None
    return IncomingMessage(
        source=Source.SLACK,
        action="edit",
        external_id=key(changed["ts"]),
        thread_key=key(changed.get("thread_ts") or changed["ts"]),
        text=changed.get("text") or "",
        sent_at=slack_ts_to_datetime(edited.get("ts") or message["ts"]),
    )
