"""Turn a stored Slack Events API envelope into a message of its thread: pure functions."""

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rapport.inbox.adapters import EventRejected, IncomingMessage
from rapport.inbox.models import Channel, InboundEvent, Source
from rapport.integrations.slack.ids import SlackMessageRef

# Subtypes that carry something a person wrote. Every other subtype is channel noise
# (joins, leaves, topic and name changes, pins, bot posts) and is ignored.
CONTENT_SUBTYPES = {None, "", "file_share", "thread_broadcast", "me_message"}
# The app subscribes to channel messages only; direct messages are not customer threads.
CHANNEL_TYPES = {None, "channel", "group"}
SLACKBOT = "USLACKBOT"
SUBJECT_LENGTH = 120


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


@dataclass(frozen=True)
class SlackAuthor:
    """What the enrich step learnt about a message's author and channel."""

    channel: Channel | None
    email: str = ""
    name: str = ""
    member_id: int | None = None
    is_bot: bool = False


def slack_person_message(envelope: dict[str, Any]) -> dict[str, Any] | None:
    """Return the event of an envelope when it is a new message a person wrote.

    Only such a message needs its author and channel looked up; edits, deletions, bots
    and channel noise do not.
    """
    message = envelope.get("event") or {}
    if message.get("type") != "message" or message.get("channel_type") not in CHANNEL_TYPES:
        return None
    if message.get("subtype") not in CONTENT_SUBTYPES or message.get("bot_id"):
        return None
    if not message.get("user") or message.get("user") == SLACKBOT:
        return None
    if not message.get("channel") or not message.get("ts"):
        return None
    return message


def slack_team_id(envelope: dict[str, Any]) -> str:
    return envelope.get("team_id") or (envelope.get("event") or {}).get("team") or ""


def slack_normalize(event: InboundEvent, author: SlackAuthor | None) -> IncomingMessage | None:
    """Turn a stored Slack message event into a new, edited or deleted message.

    Return None for events that are not a person's message (bots, joins, unfurls).
    Pure: the author and channel come from the enrich step.
    """
    envelope = event.payload
    message = envelope.get("event") or {}
    team_id = slack_team_id(envelope)
    channel_id = message.get("channel") or ""
    if message.get("type") != "message":
        return None
    if not team_id or not channel_id or not message.get("ts"):
        raise EventRejected("The Slack message event has no team, channel or timestamp.")
    if message.get("channel_type") not in CHANNEL_TYPES:
        return None

    def key(ts: str) -> str:
        return str(SlackMessageRef(team_id, channel_id, ts))

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
    if slack_person_message(envelope) is None:
        return None
    author = author or SlackAuthor(channel=None)
    if author.is_bot:
        return None
    user_id = message["user"]
    return IncomingMessage(
        source=Source.SLACK,
        external_id=key(message["ts"]),
        thread_key=key(message.get("thread_ts") or message["ts"]),
        text=message.get("text") or "",
        subject=_subject(message.get("text") or ""),
        sent_at=slack_ts_to_datetime(message["ts"]),
        author_external_id=user_id,
        author_email=author.email,
        author_name=author.name or user_id,
        author_user_id=author.member_id,
        attachments=_attachments(message),
        channel=author.channel,
    )


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
