"""Reads of the Slack app: the members behind Slack users and what the App Home lists."""

import datetime

from django.db.models import Count, Q
from django.utils import timezone

from rapport.inbox.models import Message, Source
from rapport.integrations.slack.blocks import AppHomeData
from rapport.integrations.slack.ids import SlackMessageRef
from rapport.requests.config import request_settings_get
from rapport.requests.models import Request, RequestStatus
from rapport.users.models import User

# Lists on the App Home stop here (Slack caps a view at 100 blocks); the rest is in Rapport.
HOME_LIST_LIMIT = 15


def member_for_slack_user(slack_user_id: str) -> User | None:
    """Return the active member a Slack user is, or None for anyone else."""
    if not slack_user_id:
        return None
    return User.objects.filter(slack_user_id=slack_user_id, is_active=True).first()


def request_for_action(request_id: int) -> Request | None:
    """Return a request with what its card and buttons show, or None when it is gone."""
    return (
        Request.objects.select_related("account", "assignee", "channel", "conversation", "message")
        .filter(pk=request_id)
        .first()
    )


def message_for_assign(message_id: int) -> Message | None:
    """Return a stored message with its conversation, as assigning it needs, or None."""
    return Message.objects.select_related("conversation").filter(pk=message_id).first()


def slack_message_find(*, team_id: str, channel_id: str, ts: str) -> Message | None:
    """Return the stored message a Slack message is, by its "team:channel:ts" id."""
    return (
        Message.objects.select_related("conversation")
        .filter(source=Source.SLACK, external_id=str(SlackMessageRef(team_id, channel_id, ts)))
        .first()
    )


def app_home_data(member: User) -> AppHomeData:
    """Collect what *member*'s App Home shows, in a fixed number of queries.

    Everyone sees the open requests assigned to them and the unassigned open ones;
    admins also see open requests by assignee, what is on hold, and recent closes.
    """
    related = ("account", "assignee", "channel")
    mine_q = Q(assignee=member) & ~Q(status=RequestStatus.CLOSED)
    incoming_q = Q(assignee__isnull=True, status=RequestStatus.OPEN)
    on_hold_q = Q(status=RequestStatus.PENDING)
    week_ago = timezone.now() - datetime.timedelta(days=7)
    counts = Request.objects.aggregate(
        mine=Count("pk", filter=mine_q),
        incoming=Count("pk", filter=incoming_q),
        on_hold=Count("pk", filter=on_hold_q),
        closed_week=Count("pk", filter=Q(status=RequestStatus.CLOSED, closed_at__gte=week_ago)),
    )
    mine = list(Request.objects.filter(mine_q).select_related(*related)[:HOME_LIST_LIMIT])
    incoming = list(Request.objects.filter(incoming_q).select_related(*related)[:HOME_LIST_LIMIT])
    ticketing = bool(request_settings_get().ticket_address)
    if not member.is_admin:
        return AppHomeData(
            mine=mine,
            mine_count=counts["mine"],
            incoming=incoming,
            incoming_count=counts["incoming"],
            ticketing=ticketing,
        )
    on_hold = list(Request.objects.filter(on_hold_q).select_related(*related)[:HOME_LIST_LIMIT])
    by_assignee = (
        Request.objects.exclude(status=RequestStatus.CLOSED)
        .values("assignee__name", "assignee__email")
        .annotate(n=Count("pk"))
        .order_by("-n", "assignee__name", "assignee__email")
    )
    open_by_assignee = [
        (row["assignee__name"] or row["assignee__email"] or "Unassigned", row["n"])
        for row in by_assignee[:HOME_LIST_LIMIT]
    ]
    return AppHomeData(
        mine=mine,
        mine_count=counts["mine"],
        incoming=incoming,
        incoming_count=counts["incoming"],
        ticketing=ticketing,
        on_hold=on_hold,
        on_hold_count=counts["on_hold"],
        open_by_assignee=open_by_assignee,
        closed_last_week=counts["closed_week"],
    )
