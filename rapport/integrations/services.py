"""Writes about integrations: how their outside calls went, and connection tests."""

import datetime
import logging

from django.db import transaction
from django.utils import timezone

from rapport.audit.services import audit_record
from rapport.core.errors import InvalidInput
from rapport.integrations.models import IntegrationHealth
from rapport.integrations.registry import integration_provider
from rapport.integrations.status import ConnectionTest
from rapport.users.models import User
from rapport.users.services import user_require_admin

logger = logging.getLogger(__name__)

# A success is written at most this often, or at once after a failure: a busy worker
# makes many calls a minute, and the page needs only to know that they go through.
OK_WRITE_EVERY = datetime.timedelta(seconds=60)


def integration_call_record(key: str, *, error: str = "") -> None:
    """Record that an outside call to integration *key* went through, or failed with *error*.

    Clients call this after each call that tells something about the connection (not
    after a refusal about one payload, such as an unknown channel). It never raises:
    recording must not break the call it records.
    """
    now = timezone.now()
    try:
        if error:
            _health_save(key, last_error=error[:2000], last_error_at=now)
            return
        # A read is cheap next to the call it follows; most successes need no write.
        known = IntegrationHealth.objects.filter(key=key).values("last_ok_at", "last_error_at")
        last = known.first()
        if (
            last is not None
            and last["last_ok_at"] is not None
            and now - last["last_ok_at"] < OK_WRITE_EVERY
            and (last["last_error_at"] is None or last["last_error_at"] < last["last_ok_at"])
        ):
            return
        _health_save(key, last_ok_at=now)
    except Exception as exc:  # noqa: BLE001 - the call itself went as it went
        logger.warning("Could not record the outcome of a call to %s: %s", key, exc)


def _health_save(key: str, **fields: object) -> IntegrationHealth | None:
    """Update the health record of *key*, made on first use; in a savepoint of its own."""
    with transaction.atomic():
        if IntegrationHealth.objects.filter(key=key).update(**fields):
            return None
        health, _ = IntegrationHealth.objects.update_or_create(key=key, defaults=fields)
        return health


def integration_test_run(*, actor: User, key: str) -> IntegrationHealth:
    """Test integration *key*'s connection now; record and audit the result.

    The outside call is made outside any transaction, with a short timeout; a failure
    is a result (shown on the page), not an error.
    """
    user_require_admin(actor, "test an integration's connection")
    provider = integration_provider(key)
    if provider.test is None:
        raise InvalidInput(f"{provider.title} has no connection test.")
    try:
        result = provider.test()
    except Exception as exc:  # noqa: BLE001 - a test that breaks is a failed test, shown
        logger.exception("The connection test of %s broke", key)
        result = ConnectionTest(False, f"The test could not run: {type(exc).__name__}: {exc}")
    now = timezone.now()
    with transaction.atomic():
        health = (
            IntegrationHealth.objects.select_for_update().filter(key=key).first()
            or IntegrationHealth.objects.get_or_create(key=key)[0]
        )
        before = _test_summary(health)
        health.tested_at = now
        health.test_ok = result.ok
        health.test_detail = result.detail[:2000]
        health.tested_by = actor
        if result.ok:
            health.last_ok_at = now
        elif not result.unset:
            health.last_error = result.detail[:2000]
            health.last_error_at = now
        health.save()
        audit_record(
            actor=actor,
            action="integration.test",
            obj=health,
            changes={"test": {"before": before, "after": _test_summary(health)}},
        )
    return health


def _test_summary(health: IntegrationHealth) -> str | None:
    if health.tested_at is None:
        return None
    return f"{'ok' if health.test_ok else 'failed'}: {health.test_detail}"[:500]
