"""The Slack channel: Events API messages in, team replies out in their thread.

- verify: Bolt checks the signature on the raw body, with its 5-minute window
  (`views.slack_events`, and Socket Mode's own connection for `slack_socket_mode`);
- store: `bolt.slack_event_store`, unique on Slack's event id;
- enrich: the author (the member behind a Slack user, or the customer's cached profile
  from `users.info`) and the channel (registered on its first message, named by
  `conversations.info`); network calls happen here, outside any transaction;
- normalize: `normalize.slack_normalize`, pure;
- deliver: `chat.postMessage` in the conversation's thread, under the member's name and
  Slack avatar.
"""

import logging
from typing import Any

from rapport.inbox.adapters import ConversationChannel, Delivery, IncomingMessage
from rapport.inbox.models import InboundEvent, Message, Source
from rapport.integrations.slack.blocks import mrkdwn_escape
from rapport.integrations.slack.client import (
    SlackRefused,
    SlackUnavailable,
    slack_api_call,
)
from rapport.integrations.slack.ids import SlackMessageRef
from rapport.integrations.slack.normalize import (
    SlackAuthor,
    slack_normalize,
    slack_person_message,
    slack_team_id,
)
from rapport.integrations.slack.selectors import member_for_slack_user
from rapport.integrations.slack.services import slack_channel_register, slack_user_resolve
from rapport.outbox.handlers import OutboxFailed
from rapport.users.services import user_slack_link_by_email

logger = logging.getLogger(__name__)

# Processing attempts that wait for Slack to describe an unknown author (users.info);
# the recovery job retries about once a minute.
PROFILE_ATTEMPTS = 3


class SlackChannel(ConversationChannel):
    source = Source.SLACK
    label = "Slack"

    def enrich(self, event: InboundEvent) -> SlackAuthor | None:
        """Find who wrote a person's message, and register its channel."""
        envelope = event.payload
        message = slack_person_message(envelope)
        team_id = slack_team_id(envelope)
        if message is None or not team_id:
            return None
        user_id = message["user"]
        author = _author(event, team_id, user_id)
        channel = slack_channel_register(
            team_id=team_id,
            channel_id=message["channel"],
            is_private=message.get("channel_type") == "group",
        )
        return SlackAuthor(
            channel=channel,
            email=author.email,
            name=author.name,
            member_id=author.member_id,
            is_bot=author.is_bot,
        )

    def normalize(self, event: InboundEvent, extra: SlackAuthor | None) -> IncomingMessage | None:
        return slack_normalize(event, extra)

    def deliver(self, message: Message) -> Delivery:
        """Post the reply in its thread, as the member who wrote it."""
        thread = SlackMessageRef.parse(message.conversation.thread_key)
        if thread is None:
            raise OutboxFailed(f"Conversation {message.conversation_id} is not a Slack thread.")
        params: dict[str, Any] = {
            "channel": thread.channel_id,
            "thread_ts": thread.ts,
            "text": mrkdwn_escape(message.text),
        }
        member = message.author_user
        if message.author_name:
            # The name only: a channel the customer reads never shows a member's email.
            params["username"] = message.author_name
        if member is not None and (avatar := _avatar(thread.team_id, member.slack_user_id)):
            params["icon_url"] = avatar
        answer = slack_api_call("chat.postMessage", **params)
        posted = SlackMessageRef(thread.team_id, answer.get("channel") or thread.channel_id, "")
        ts = str(answer.get("ts") or "")
        external_id = str(SlackMessageRef(posted.team_id, posted.channel_id, ts)) if ts else ""
        return Delivery(external_id=external_id, detail={"channel": posted.channel_id, "ts": ts})


def _author(event: InboundEvent, team_id: str, user_id: str) -> SlackAuthor:
    member = member_for_slack_user(user_id)
    if member is not None:
        return SlackAuthor(
            channel=None, email=member.email, name=member.display_name, member_id=member.pk
        )
    try:
        profile = slack_user_resolve(team_id=team_id, user_id=user_id)
    except SlackRefused as exc:
        if exc.code != "no_token":
            raise  # a setup problem (scopes, token): the ingest records it and retries
        return SlackAuthor(channel=None, name=user_id)  # nothing to ask Slack with
    except SlackUnavailable:
        # Retry while Slack may answer soon; after that, take the message in without
        # the author's profile rather than lose it: the channel still maps it.
        if event.attempts < PROFILE_ATTEMPTS:
            raise
        return SlackAuthor(channel=None, name=user_id)
    if profile.is_bot:
        return SlackAuthor(channel=None, is_bot=True)
    author = SlackAuthor(channel=None, email=profile.email, name=profile.real_name or user_id)
    member = user_slack_link_by_email(email=profile.email, slack_user_id=user_id)
    if member is not None:
        return SlackAuthor(
            channel=None, email=author.email, name=member.display_name, member_id=member.pk
        )
    return author


def _avatar(team_id: str, slack_user_id: str) -> str:
    """Return the member's Slack avatar, or "" when Rapport cannot tell it now."""
    if not slack_user_id:
        return ""
    try:
        return slack_user_resolve(team_id=team_id, user_id=slack_user_id).avatar_url
    except (SlackUnavailable, SlackRefused) as exc:
        logger.info("Posting without the avatar of Slack user %s: %s", slack_user_id, exc)
        return ""
