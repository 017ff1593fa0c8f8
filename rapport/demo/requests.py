"""Demo requests: the demo conversations triaged, then worked on by the demo team.

The demo's conversations arrive as API tickets, so each one becomes a request. A share
of them is answered, taken, put on hold, waiting on the customer, or closed and rated,
through the real services; then their times are spread out (demo data only), so the
board and the account metrics show a plausible history instead of "everything just now".
"""

import datetime

from django.db.models import F
from django.utils import timezone

from rapport.inbox.models import Message, Source
from rapport.inbox.services import conversation_reply
from rapport.requests.models import Request, RequestStatus
from rapport.requests.services import (
    request_assign,
    request_close,
    request_csat_record,
    request_hold,
    request_wait,
)
from rapport.requests.triage import triage_pending
from rapport.users.models import User

REPLIES = (
    "Thanks for flagging this, looking into it now.",
    "Good catch. I have asked our engineers and will update you here.",
    "Happy to help! Could you send a screenshot of what you see?",
)


def demo_requests_ensure(*, members: list[User], now: datetime.datetime | None = None) -> int:
    """Triage the demo conversations and work on their requests; return how many are new."""
    now = now or timezone.now()
    already = set(Request.objects.values_list("conversation_id", flat=True))
    triage_pending()
    fresh = list(
        Request.objects.filter(source=Source.API, conversation__thread_key__startswith="demo-")
        .exclude(conversation_id__in=already)
        .select_related("conversation")
        .order_by("created_at", "id")
    )
    for n, request in enumerate(fresh):
        member = members[n % len(members)]
        age = now - request.created_at
        if n % 6 == 5:
            continue  # left unanswered: the incoming column
        reply = conversation_reply(
            actor=member, conversation=request.conversation, text=REPLIES[n % 3]
        )
        # The first answer came a few business hours after the question.
        answered = request.created_at + min(datetime.timedelta(hours=1 + n % 7), age / 2)
        Message.objects.filter(pk=reply.pk).update(sent_at=answered)
        triage_pending()  # the reply is the first response and assigns its author
        request.refresh_from_db()
        if n % 6 == 1:
            request_hold(request=request, actor=member)
        elif n % 6 == 2:
            request_wait(request=request, actor=member)
        elif n % 6 in (3, 4) and age > datetime.timedelta(days=2):
            request_close(request=request, actor=member)
            closed = answered + datetime.timedelta(hours=4 + 9 * (n % 5))
            Request.objects.filter(pk=request.pk).update(closed_at=min(closed, now))
            request.refresh_from_db()
            request_csat_record(request=request, score=5 - n % 3, via="email")
        elif n % 6 == 0 and request.assignee is None:
            request_assign(request=request, assignee=member, actor=members[0])
    # Demo data only: the actions above ran "now"; date their activity to the requests.
    Request.objects.filter(pk__in=[r.pk for r in fresh], closed_at__isnull=True).update(
        last_activity_at=F("created_at")
    )
    Request.objects.filter(pk__in=[r.pk for r in fresh], status=RequestStatus.CLOSED).update(
        last_activity_at=F("closed_at")
    )
    if fresh:
        from rapport.metrics.services import metrics_refresh_all

        metrics_refresh_all()  # the backdating above bypassed the incremental refresh
    return len(fresh)
