"""How Slack tells of request changes: triage cards, DMs, emoji, thread posts, surveys.

Subscribed to the request notices in `rapport.integrations.registry`; every call goes
through the outbox in the change's transaction, and the handlers (`outbox_handlers`)
render the messages from the request as it is when they run.
"""

from rapport.inbox.models import Message, Source
from rapport.integrations.slack.ids import SlackMessageRef
from rapport.outbox.services import outbox_add
from rapport.requests.models import Request
from rapport.requests.notices import NoticeKind, RequestNotice


def slack_message_ref(message: Message | None) -> SlackMessageRef | None:
    """Return the Slack message a stored message is, if it came from Slack."""
    if message is None or message.source != Source.SLACK:
        return None
    return SlackMessageRef.parse(message.external_id)


def slack_thread_ref(request: Request) -> SlackMessageRef | None:
    """Return the root of the Slack thread the request lives in, if it lives in one."""
    if request.source != Source.SLACK:
        return None
    return SlackMessageRef.parse(request.conversation.thread_key)


def request_notice_to_slack(notice: RequestNotice) -> None:
    """Queue the Slack calls that tell of *notice*."""
    request, config = notice.request, notice.config
    if notice.kind != NoticeKind.TICKET and (config.triage_channel_id or request.notification_ts):
        outbox_add(
            "slack.request_card",
            {
                "request_id": request.pk,
                "channel": request.notification_channel or config.triage_channel_id,
            },
        )
    member = notice.tell_member
    if member is not None and member.slack_user_id and notice.member_text:
        outbox_add(
            "slack.dm",
            {
                "user": member.slack_user_id,
                "request_id": request.pk,
                "text": notice.member_text,
                "kind": "nudge" if notice.kind == NoticeKind.NUDGED else "assigned",
            },
        )
        notice.reached.add("member")
    assignee = request.assignee
    first_responder = (
        notice.kind == NoticeKind.ASSIGNED
        and notice.via == "first_responder"
        and assignee is not None
        and assignee.slack_user_id
    )
    # The thread is read only for what is posted in it (a nudge or a card needs none).
    in_thread = first_responder or notice.ask_rating or notice.thread_text
    thread = slack_thread_ref(request) if in_thread else None
    if first_responder and assignee is not None and thread is not None:
        # The responder gets the request's actions in its thread, visible to them alone.
        outbox_add(
            "slack.thread_actions", {"request_id": request.pk, "user": assignee.slack_user_id}
        )
    if notice.emoji and (ref := slack_message_ref(request.message)):
        outbox_add(
            "slack.reaction",
            {"channel": ref.channel_id, "timestamp": ref.ts, "name": notice.emoji},
        )
    if notice.ask_rating and thread is not None:
        outbox_add("slack.csat_survey", {"request_id": request.pk})
        notice.reached.add("customer")
    if notice.thread_text and thread is not None:
        outbox_add(
            "slack.thread_post",
            {"channel": thread.channel_id, "thread_ts": thread.ts, "text": notice.thread_text},
        )
