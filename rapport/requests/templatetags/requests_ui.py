"""Template helpers of the request pages: ages, SLA badges and the timeline's sentences."""

import datetime
import html
from typing import Any

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from rapport.core.templatetags.display import avatar_tone, initials
from rapport.inbox.models import Source
from rapport.requests.models import ActivityKind, Request, RequestActivity, RequestStatus
from rapport.requests.selectors import Card
from rapport.users.models import User

register = template.Library()

STATUS_LABELS = dict(RequestStatus.choices)
VIA_LABELS = {
    "web": "on the web",
    "board": "on the board",
    "api": "through the API",
    "slack": "in Slack",
    "email": "by email",
    "customer": "by the customer's reply",
    "csm": "as the channel's CSM",
    "first_responder": "as the first responder",
    "auto_close": "automatically",
    "automation": "automatically",
}


def _span(delta: datetime.timedelta) -> str:
    seconds = int(abs(delta.total_seconds()))
    if seconds < 60:
        return "now"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 48:
        return f"{hours}h"
    days = hours // 24
    if days < 60:
        return f"{days}d"
    return f"{days // 30}mo"


def _short_time(value: datetime.datetime, *, year: bool = True) -> str:
    """Format like `when` ("Nov 2, 2026 09:30"), without its per-call locale lookup.

    The board formats a few hundred times a page; Django's date_format costs 0.1 ms each.
    """
    local = timezone.localtime(value)
    date = f"{local:%b} {local.day}, {local.year}" if year else f"{local:%b} {local.day},"
    return f"{date} {local:%H:%M}"


@register.filter
def age(value: datetime.datetime | None) -> str:
    """Say how long ago *value* was, in the board's short form: 5m, 3h, 2d."""
    if value is None:
        return ""
    return _span(timezone.now() - value)


@register.simple_tag
def sla_badge(request: Request | Card) -> SafeString | str:
    """Show the SLA target a request is working towards, and whether it is overdue."""
    if request.status == RequestStatus.CLOSED:
        return ""
    if request.first_response_at is None and request.first_response_due_at is not None:
        kind, due = "Response", request.first_response_due_at
    elif request.resolution_due_at is not None:
        kind, due = "Resolution", request.resolution_due_at
    else:
        return ""
    delta = due - timezone.now()
    local = _short_time(due, year=False)
    if delta.total_seconds() < 0:
        return format_html(
            '<span class="sla sla-overdue" title="{} due {}">{} overdue {}</span>',
            kind,
            local,
            kind,
            _span(delta),
        )
    soon = " sla-soon" if delta.total_seconds() < 4 * 3600 else ""
    return format_html(
        '<span class="sla{}" title="{} due {}">{} due in {}</span>',
        soon,
        kind,
        local,
        kind,
        _span(delta),
    )


def _member(users: dict[int, User], value: Any) -> str:
    if value is None:
        return "nobody"
    user = users.get(value) if isinstance(value, int) else None
    return user.display_name if user else "a former member"


@register.simple_tag
def activity_text(activity: RequestActivity, users: dict[int, User]) -> str:
    """Say what an activity did, in a sentence that follows its actor's name."""
    data = activity.data or {}
    via = VIA_LABELS.get(str(data.get("via", "")), "")
    suffix = f" {via}" if via else ""
    kind = activity.kind
    if kind == ActivityKind.CREATED:
        origin = data.get("origin", "")
        if origin == "assigned":
            return "made the message a request"
        if origin == "ticket":
            return "opened the request from an API ticket"
        score = data.get("score")
        shown = f" (score {score:.2f})" if isinstance(score, float) else ""
        return f"detected the request{shown}"
    if kind == ActivityKind.ASSIGNED:
        target = data.get("to")
        if target is None:
            return f"unassigned the request{suffix}"
        return f"assigned the request to {_member(users, target)}{suffix}"
    if kind == ActivityKind.STATUS:
        before = STATUS_LABELS.get(str(data.get("from", "")), data.get("from", ""))
        after = STATUS_LABELS.get(str(data.get("to", "")), data.get("to", ""))
        return f"moved the request from {before} to {after}{suffix}"
    if kind == ActivityKind.GROUPED:
        return "grouped a follow-up message into the request"
    if kind == ActivityKind.RESPONDED:
        where = "in the thread" if data.get("in_thread") else "in the channel"
        return f"answered first {where}"
    if kind == ActivityKind.TICKET:
        return f"created a ticket at {data.get('address', 'the ticketing tool')}"
    if kind == ActivityKind.NUDGED:
        return "sent the assignee a nudge"
    if kind == ActivityKind.CSAT:
        return f"got a satisfaction rating of {data.get('score', '?')} out of 5"
    return activity.get_kind_display().lower()


@register.filter
def actor_name(activity: RequestActivity) -> str:
    if activity.actor is not None:
        return activity.actor.display_name
    if activity.kind == ActivityKind.CSAT:
        return "The customer"
    return "Rapport"


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _card(item: Card, url_prefix: str, source_labels: dict[str, str]) -> str:
    """Return one board card's HTML (built here: the board shows up to 100 at once)."""
    title = item.title if len(item.title) <= 120 else item.title[:119] + "…"
    account = (
        f'<span class="board-card-account">{_e(item.account_name)}</span>'
        if item.account_name is not None
        else '<span class="empty">No account</span>'
    )
    requester = item.requester_name or item.requester_email or "Unknown requester"
    channel = (
        f' <span class="chip chip-channel">#{_e(item.channel_name)}</span>'
        if item.channel_name is not None
        else ""
    )
    who = item.assignee_display
    if who:
        assignee = (
            f'<span class="avatar avatar-xs tone-{avatar_tone(who)}" title="Assigned to {_e(who)}"'
            f' aria-label="Assigned to {_e(who)}">{_e(initials(who))}</span>'
        )
    else:
        assignee = '<span class="board-card-unassigned">Unassigned</span>'
    return (
        f'<li class="board-card" draggable="true" id="request-{item.pk}" data-id="{item.pk}"'
        f' data-status="{_e(item.status)}">'
        f'<a class="board-card-title" href="{url_prefix}{item.pk}/">{_e(title)}</a>'
        f'<div class="board-card-meta">{account}'
        f' <span class="board-card-requester">{_e(requester)}</span></div>'
        f'<div class="board-card-foot">'
        f'<span class="chip chip-source">{_e(source_labels.get(item.source, item.source))}</span>'
        f"{channel} {sla_badge(item)}"
        f' <span class="board-card-age" title="{_short_time(item.created_at)}">'
        f'<time datetime="{item.created_at.isoformat()}">{age(item.created_at)}</time></span>'
        f" {assignee}</div></li>"
    )


@register.simple_tag
def board_cards(items: list[Card]) -> SafeString:
    """Render a page of board cards."""
    url_prefix = reverse("requests:detail", args=[0]).removesuffix("0/")
    labels = dict(Source.choices)
    return mark_safe("".join(_card(item, url_prefix, labels) for item in items))  # noqa: S308
