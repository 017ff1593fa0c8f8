"""Sign-in throttling: refuse a client IP for a while after too many failed sign-ins.

Ten failures for one email from one IP within 15 minutes block that pair, and a
hundred failures from one IP block the IP, each for 15 minutes: the web login, the
admin login and API tokens all count and all answer 429 while blocked. An account is
never locked out from every IP: a block names its IP, so the owner signs in from
elsewhere. A successful sign-in clears nothing, so an attacker who knows one password
cannot use it to reset the count of guesses at others.

Failures and blocks live in the database, so every server process sees them; each
write is one short transaction. `login_throttle_prune` (from the scheduler) deletes
what no longer counts.
"""

import datetime
import logging
import math

from django.db import transaction
from django.utils import timezone

from rapport.core.errors import TooManyRequests
from rapport.users.models import LoginBlock, LoginFailure

logger = logging.getLogger(__name__)

WINDOW = datetime.timedelta(minutes=15)
BLOCK_FOR = datetime.timedelta(minutes=15)
FAILURES_PER_EMAIL = 10  # from one IP, within WINDOW
FAILURES_PER_IP = 100  # whatever the email, within WINDOW
EMAIL_MAX_LENGTH = 254


class LoginThrottled(TooManyRequests):
    """Sign-ins from this IP (for this email) are blocked for a while."""


def login_email_normalize(email: str | None) -> str:
    """Return *email* as the throttle counts it: trimmed, lower case, at most 254 characters."""
    return (email or "").strip().lower()[:EMAIL_MAX_LENGTH]


def login_throttle_check(*, ip: str, email: str = "") -> None:
    """Raise LoginThrottled if *ip* may not sign in now (as *email*, when given).

    One indexed read: the IP's block and, with an email, the pair's.
    """
    now = timezone.now()
    email = login_email_normalize(email)
    block = (
        LoginBlock.objects.filter(ip=ip, email__in={"", email}, until__gt=now)
        .order_by("-until")
        .first()
    )
    if block is None:
        return
    seconds = max(1, math.ceil((block.until - now).total_seconds()))
    minutes = math.ceil(seconds / 60)
    what = "from your network" if not block.email else f"for {block.email} from your network"
    raise LoginThrottled(
        f"Too many failed sign-ins {what}. For your security, sign-ins are paused: "
        f"try again in {minutes} minute{'s' if minutes != 1 else ''}.",
        retry_after=seconds,
    )


@transaction.atomic
def login_failure_record(*, ip: str, email: str = "") -> LoginBlock | None:
    """Count one failed sign-in from *ip* (as *email*; "" for a bad API token).

    Block the pair at FAILURES_PER_EMAIL failures and the IP at FAILURES_PER_IP, and
    log each block: a person locked out, or an attack, is something to see. Return
    the block this failure started, if any.
    """
    now = timezone.now()
    email = login_email_normalize(email)
    LoginFailure.objects.create(ip=ip, email=email, created_at=now)
    since = now - WINDOW
    started = None
    if email:
        count = LoginFailure.objects.filter(ip=ip, email=email, created_at__gt=since).count()
        if count >= FAILURES_PER_EMAIL:
            started = _block(ip, email, count, now) or started
    count = LoginFailure.objects.filter(ip=ip, created_at__gt=since).count()
    if count >= FAILURES_PER_IP:
        started = _block(ip, "", count, now) or started
    return started


def _block(ip: str, email: str, failures: int, now: datetime.datetime) -> LoginBlock | None:
    if LoginBlock.objects.filter(ip=ip, email=email, until__gt=now).exists():
        return None
    block = LoginBlock.objects.create(
        ip=ip, email=email, until=now + BLOCK_FOR, failures=failures, created_at=now
    )
    logger.warning(
        "Sign-ins blocked for %d minutes: %d failed sign-ins within %d minutes from ip=%s email=%s",
        BLOCK_FOR.total_seconds() // 60,
        failures,
        WINDOW.total_seconds() // 60,
        ip,
        email or "(any)",
    )
    return block


def login_throttle_prune(*, now: datetime.datetime | None = None) -> int:
    """Delete failures older than the counting window and blocks that ended; return how many."""
    now = now or timezone.now()
    failures, _ = LoginFailure.objects.filter(created_at__lte=now - WINDOW).delete()
    blocks, _ = LoginBlock.objects.filter(until__lte=now).delete()
    return failures + blocks
