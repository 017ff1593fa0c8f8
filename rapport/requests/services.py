"""Every change to a request: create, assign, change state, ticket, rate, configure.

Web views, the API, the integrations' handlers and the scheduled automations all call
these. Each change records an activity and emits a channel-free notice in the same
transaction; the integrations turn it into their own messages (`rapport.requests.notices`).
"""

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Value
from django.db.models.functions import Greatest
from django.utils import timezone

from rapport.accounts.models import Contact
from rapport.audit.services import audit_changes, audit_record
from rapport.core.errors import InvalidInput, PermissionDenied
from rapport.core.specs import specs_validate
from rapport.inbox.models import Channel, Message, MessageDirection
from rapport.requests import notices
from rapport.requests.config import RequestConfig, request_config_for, request_settings_get
from rapport.requests.models import (
    ActivityKind,
    ChannelRequestSettings,
    Request,
    RequestActivity,
    RequestMessage,
    RequestOrigin,
    RequestSettings,
    RequestStatus,
)
from rapport.requests.specs import CHANNEL, WORKSPACE
from rapport.users.models import User
from rapport.users.services import user_require_admin

TITLE_LENGTH = 300


def _title(message: Message) -> str:
    subject = message.conversation.subject.strip()
    first_line = next((line.strip() for line in message.text.splitlines() if line.strip()), "")
    title = subject or first_line or "(no text)"
    return title if len(title) <= TITLE_LENGTH else title[: TITLE_LENGTH - 1] + "…"


def _require_member(actor: User | None) -> None:
    if actor is not None and not actor.is_active:
        raise PermissionDenied("Only an active member can change requests.")


def _activity(
    request: Request, kind: str, actor: User | None, at: datetime.datetime, **data: Any
) -> None:
    RequestActivity.objects.create(request=request, kind=kind, actor=actor, data=data, at=at)


def _save(request: Request, *names: str) -> None:
    request.save(update_fields=[*names, "updated_at"])


# --- creating --------------------------------------------------------------------------------


@dataclass
class RequestDraft:
    """A request about to be written (`request_build`), with what its creation runs.

    *assignee* is the channel's CSM when the CSM automation gives them the request.
    """

    request: Request
    config: RequestConfig
    assignee: User | None = None


def request_requester(
    message: Message, contacts: Mapping[str, Contact | None] | None = None
) -> Contact | None:
    """Return the contact who asks in *message*: the conversation's, or its author's.

    *contacts* (by lower-cased email) saves a query per message in a batch.
    """
    conversation = message.conversation
    if message.author_email and message.author_email != conversation.requester_email:
        email = message.author_email.lower()
        if contacts is not None:
            return contacts.get(email)
        return Contact.objects.filter(email=email).first()
    return conversation.requester


def request_build(
    *,
    message: Message,
    origin: str,
    config: RequestConfig,
    score: float | None = None,
    requester: Contact | None = None,
    sla_policies: Mapping[str, Any] | None = None,
) -> RequestDraft:
    """Return the unsaved request a customer *message* opens, for `requests_create_many`.

    The request counts from the message's time. Its SLA targets come from its account's
    policy; a channel with a CSM gives it to them when that automation is on.
    """
    from rapport.metrics.sla import sla_due_dates

    conversation = message.conversation
    first_due, resolution_due, policy_name = sla_due_dates(
        conversation.account, message.sent_at, sla_policies
    )
    request = Request(
        account=conversation.account,
        channel=conversation.channel,
        conversation=conversation,
        message=message,
        source=conversation.source,
        requester=requester,
        requester_name=message.author_name,
        requester_email=message.author_email,
        requester_external_id=message.author_external_id,
        title=_title(message),
        origin=origin,
        detection_score=score,
        created_at=message.sent_at,
        last_activity_at=message.sent_at,
        last_customer_message_at=message.sent_at,
        sla_policy_name=policy_name,
        first_response_due_at=first_due,
        resolution_due_at=resolution_due,
    )
    csm = conversation.channel.csm if conversation.channel is not None else None
    assignee = csm if config.assign_csm and csm is not None and csm.is_active else None
    return RequestDraft(request=request, config=config, assignee=assignee)


def requests_create_many(drafts: Sequence[RequestDraft], *, actor: User | None = None) -> None:
    """Write new requests at once: each with its root message, activity and notice.

    A draft with an assignee is written assigned to them, as `request_assign` would
    leave it, and tells of the assignment rather than of a bare creation: the
    assignment's notice posts the card, already showing the CSM.
    """
    if not drafts:
        return
    now = timezone.now()
    for draft in drafts:
        if draft.assignee is not None:
            request = draft.request
            request.assignee = draft.assignee
            request.assigned_at = now
            request.last_activity_at = max(request.last_activity_at, now)
    Request.objects.bulk_create([draft.request for draft in drafts])
    RequestMessage.objects.bulk_create(
        [RequestMessage(request=draft.request, message=draft.request.message) for draft in drafts]
    )
    activities = []
    for draft in drafts:
        request = draft.request
        activities.append(
            RequestActivity(
                request=request,
                kind=ActivityKind.CREATED,
                actor=actor,
                data={"origin": request.origin, "score": request.detection_score},
                at=now,
            )
        )
        if draft.assignee is not None:
            activities.append(
                RequestActivity(
                    request=request,
                    kind=ActivityKind.ASSIGNED,
                    actor=None,
                    data={"from": None, "to": draft.assignee.pk, "via": "csm"},
                    at=now,
                )
            )
    RequestActivity.objects.bulk_create(activities)
    for draft in drafts:
        if draft.assignee is not None:
            notices.request_assigned(
                draft.request, draft.config, actor=None, previous=None, via="csm"
            )
        else:
            notices.request_created(draft.request, draft.config)


def request_create(
    *,
    message: Message,
    origin: str,
    config: RequestConfig | None = None,
    score: float | None = None,
    actor: User | None = None,
) -> Request:
    """Open a request from a customer *message*; run the creation automations."""
    config = config or request_config_for(message.conversation.channel)
    draft = request_build(
        message=message,
        origin=origin,
        config=config,
        score=score,
        requester=request_requester(message),
    )
    requests_create_many([draft], actor=actor)
    return draft.request


@transaction.atomic
def message_assign(
    *, message: Message, assignee: User, actor: User | None, via: str = "web"
) -> Request:
    """Assign the request *message* belongs to; a message that is none becomes one."""
    _require_member(actor)
    if message.direction != MessageDirection.INBOUND:
        raise InvalidInput("Only a customer's message can become a request.")
    link = RequestMessage.objects.filter(message=message).select_related("request").first()
    if link is not None:
        request = link.request
        if request.is_closed:
            request_status_set(request=request, status=RequestStatus.OPEN, actor=actor, via=via)
    else:
        request = request_create(message=message, origin=RequestOrigin.ASSIGNED, actor=actor)
    request_assign(request=request, assignee=assignee, actor=actor, via=via)
    return request


def requests_move_to_account(*, conversation_id: int, account_id: int | None) -> set[int]:
    """Move every request of a conversation to the account it moved to (None: no account).

    Return the ids of the accounts the requests left, whose request figures changed too.
    The caller (the conversation's move) refreshes those figures.
    """
    moving = Request.objects.filter(conversation_id=conversation_id)
    if account_id is None:
        moving = moving.exclude(account__isnull=True)
    else:
        moving = moving.exclude(account_id=account_id)
    left = {pk for pk in moving.values_list("account_id", flat=True).distinct() if pk is not None}
    moving.update(account_id=account_id, updated_at=timezone.now())
    return left


def requests_messages_add(joins: Sequence[tuple[int, Message, bool]]) -> None:
    """Join customers' messages to requests: (request id, message, grouped) each.

    A message joins through its thread, or as a grouped follow-up. Written by id,
    without reading the requests: triage adds most messages this way, many at once.
    """
    if not joins:
        return
    RequestMessage.objects.bulk_create(
        [
            RequestMessage(request_id=request_id, message=message, grouped=grouped)
            for request_id, message, grouped in joins
        ],
        ignore_conflicts=True,
    )
    latest: dict[int, datetime.datetime] = {}
    for request_id, message, _ in joins:
        latest[request_id] = max(latest.get(request_id, message.sent_at), message.sent_at)
    now = timezone.now()
    for request_id, at in latest.items():
        Request.objects.filter(pk=request_id).update(
            last_activity_at=Greatest("last_activity_at", Value(at)),
            last_customer_message_at=Greatest("last_customer_message_at", Value(at)),
            updated_at=now,
        )
    RequestActivity.objects.bulk_create(
        [
            RequestActivity(
                request_id=request_id,
                kind=ActivityKind.GROUPED,
                data={"message": message.pk},
                at=now,
            )
            for request_id, message, grouped in joins
            if grouped
        ]
    )


def request_team_reply(
    *, request: Request, message: Message, in_thread: bool, config: RequestConfig
) -> Request:
    """Record a team member's reply to *request*: its first response, and its owner.

    A reply in the request's thread joins it. The first reply after the request opened
    is its first response; with "assign to the first responder" on, it gives an
    unassigned request to whoever replied.
    """
    member = message.author_user
    if in_thread:
        RequestMessage.objects.bulk_create(
            [RequestMessage(request=request, message=message)], ignore_conflicts=True
        )
    names = ["last_activity_at"]
    request.last_activity_at = max(request.last_activity_at, message.sent_at)
    if request.first_response_at is None and message.sent_at >= request.created_at:
        request.first_response_at = message.sent_at
        request.first_responder = member
        names += ["first_response_at", "first_responder"]
        _activity(request, ActivityKind.RESPONDED, member, message.sent_at, in_thread=in_thread)
    _save(request, *names)
    if (
        config.assign_first_responder
        and member is not None
        and member.is_active
        and request.assignee_id is None
    ):
        request_assign(
            request=request, assignee=member, actor=member, via="first_responder", config=config
        )
    return request


# --- assigning -------------------------------------------------------------------------------


@transaction.atomic
def request_assign(
    *,
    request: Request,
    assignee: User | None,
    actor: User | None,
    via: str = "web",
    config: RequestConfig | None = None,
) -> Request:
    """Give *request* to *assignee* (None unassigns); tell them, mark the message.

    An assigned request that was closed stays closed; the board moves it if wanted.
    """
    _require_member(actor)
    if assignee is not None and not assignee.is_active:
        raise InvalidInput("Requests can only go to active members.", field="assignee")
    if request.assignee_id == (assignee.pk if assignee else None):
        return request
    previous = request.assignee_id
    now = timezone.now()
    request.assignee = assignee
    request.assigned_at = now if assignee else None
    request.last_activity_at = max(request.last_activity_at, now)
    _save(request, "assignee", "assigned_at", "last_activity_at")
    _activity(
        request,
        ActivityKind.ASSIGNED,
        actor,
        now,
        **{"from": previous, "to": assignee.pk if assignee else None, "via": via},
    )
    notices.request_assigned(
        request,
        config or request_config_for(request.channel),
        actor=actor,
        previous=previous,
        via=via,
    )
    return request


def request_take(*, request: Request, actor: User, via: str = "web") -> Request:
    """Assign *request* to the member looking into it."""
    return request_assign(request=request, assignee=actor, actor=actor, via=via)


# --- states ----------------------------------------------------------------------------------


@transaction.atomic
def request_status_set(
    *,
    request: Request,
    status: str,
    actor: User | None,
    via: str = "web",
    config: RequestConfig | None = None,
) -> Request:
    """Move *request* to *status*; closing asks the customer for a rating."""
    _require_member(actor)
    if status not in RequestStatus.values:
        raise InvalidInput(f"{status!r} is not a request state.", field="status")
    if request.status == status:
        return request
    previous = request.status
    config = config or request_config_for(request.channel)
    now = timezone.now()
    request.status = status
    request.last_activity_at = now
    names = ["status", "last_activity_at"]
    if status == RequestStatus.CLOSED:
        request.closed_at, request.closed_by = now, actor
        names += ["closed_at", "closed_by"]
        if config.csat_enabled:
            # A new survey time also revokes the links of an earlier survey.
            request.csat_requested_at = now
            names.append("csat_requested_at")
    elif previous == RequestStatus.CLOSED:
        request.closed_at, request.closed_by, request.nudged_at = None, None, None
        names += ["closed_at", "closed_by", "nudged_at"]
    _save(request, *names)
    _activity(
        request, ActivityKind.STATUS, actor, now, **{"from": previous, "to": status, "via": via}
    )
    notices.request_status_changed(request, config, previous=previous, actor=actor)
    return request


def request_close(*, request: Request, actor: User | None, via: str = "web") -> Request:
    return request_status_set(request=request, status=RequestStatus.CLOSED, actor=actor, via=via)


def request_reopen(*, request: Request, actor: User | None, via: str = "web") -> Request:
    return request_status_set(request=request, status=RequestStatus.OPEN, actor=actor, via=via)


def request_hold(*, request: Request, actor: User | None, via: str = "web") -> Request:
    """Put *request* on hold (pending): nobody can act on it for now."""
    return request_status_set(request=request, status=RequestStatus.PENDING, actor=actor, via=via)


def request_wait(*, request: Request, actor: User | None, via: str = "web") -> Request:
    """Mark *request* as waiting on the customer; their next message reopens it."""
    return request_status_set(request=request, status=RequestStatus.WAITING, actor=actor, via=via)


REQUEST_ACTIONS = ("take", "assign", "hold", "wait", "close", "reopen", "ticket")


def request_action_apply(
    *,
    request: Request,
    action: str,
    actor: User,
    assignee: User | None = None,
    via: str = "web",
) -> Request:
    """Run the named *action* on *request*, as a button anywhere names it.

    The board, the request page, the API and Slack all offer these; `assign` with no
    *assignee* unassigns the request.
    """
    if action == "take":
        return request_take(request=request, actor=actor, via=via)
    if action == "assign":
        return request_assign(request=request, assignee=assignee, actor=actor, via=via)
    if action == "ticket":
        return request_ticket_create(request=request, actor=actor, via=via)
    statuses = {
        "hold": RequestStatus.PENDING,
        "wait": RequestStatus.WAITING,
        "close": RequestStatus.CLOSED,
        "reopen": RequestStatus.OPEN,
    }
    if action not in statuses:
        raise InvalidInput(
            f"action must be one of {', '.join(REQUEST_ACTIONS)}, not {action!r}.", field="action"
        )
    return request_status_set(request=request, status=statuses[action], actor=actor, via=via)


# --- tickets ---------------------------------------------------------------------------------


@transaction.atomic
def request_ticket_create(*, request: Request, actor: User, via: str = "web") -> Request:
    """Send the request's thread to the email-based ticketing tool and keep the link."""
    _require_member(actor)
    config = request_config_for(request.channel)
    address = config.ticket_address
    if not address:
        raise InvalidInput(
            "No ticketing tool is configured; set its address in the request settings."
        )
    if request.ticket_sent_at is not None:
        raise InvalidInput("A ticket was already created for this request.")
    now = timezone.now()
    reference = notices.ticket_requested(request, config, address, actor=actor)
    request.ticket_address, request.ticket_reference, request.ticket_sent_at = (
        address,
        reference,
        now,
    )
    request.last_activity_at = now
    _save(request, "ticket_address", "ticket_reference", "ticket_sent_at", "last_activity_at")
    _activity(
        request, ActivityKind.TICKET, actor, now, address=address, reference=reference, via=via
    )
    return request


# --- satisfaction ----------------------------------------------------------------------------


@transaction.atomic
def request_csat_record(*, request: Request, score: int, comment: str = "", via: str) -> Request:
    """Store the customer's rating of a closed request (1 to 5); a new one replaces it."""
    if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
        raise InvalidInput("A rating is a whole number from 1 to 5.", field="score")
    if request.csat_requested_at is None:
        raise InvalidInput("This request's customer was not asked for a rating.")
    comment = (comment or "").strip()
    if len(comment) > 2000:
        raise InvalidInput("Keep the comment under 2,000 characters.", field="comment")
    now = timezone.now()
    request.csat_score, request.csat_comment, request.csat_at = score, comment, now
    _save(request, "csat_score", "csat_comment", "csat_at")
    _activity(request, ActivityKind.CSAT, None, now, score=score, via=via)
    return request


# --- settings --------------------------------------------------------------------------------


def _settings_clean(values: dict[str, Any], *, channel: bool) -> dict[str, Any]:
    """Check each setting against its declaration; on a channel, None inherits."""
    specs = CHANNEL if channel else WORKSPACE
    return specs_validate(specs, values, nullable=channel, noun="settings")


@transaction.atomic
def request_settings_update(*, actor: User, values: dict[str, Any]) -> RequestSettings:
    """Change the workspace's request settings (admins only), with an audit entry."""
    user_require_admin(actor, "change the request settings")
    cleaned = _settings_clean(values, channel=False)
    settings = request_settings_get()
    before = {name: getattr(settings, name) for name in cleaned}
    for name, value in cleaned.items():
        setattr(settings, name, value)
    settings.save()
    audit_record(
        actor=actor,
        action="request_settings.update",
        obj=settings,
        changes=audit_changes(before, cleaned),
    )
    return settings


@transaction.atomic
def channel_request_settings_update(
    *, actor: User, channel: Channel, values: dict[str, Any]
) -> ChannelRequestSettings:
    """Change one channel's overrides (admins only); a None value inherits again."""
    user_require_admin(actor, "change the request settings")
    cleaned = _settings_clean(values, channel=True)
    overrides, _ = ChannelRequestSettings.objects.get_or_create(channel=channel)
    before = {name: getattr(overrides, name) for name in cleaned}
    for name, value in cleaned.items():
        setattr(overrides, name, value)
    overrides.save()
    audit_record(
        actor=actor,
        action="channel_request_settings.update",
        obj=channel,
        changes=audit_changes(before, cleaned),
    )
    return overrides
