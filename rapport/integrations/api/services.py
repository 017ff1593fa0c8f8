"""Writes of the API channel: the outbound webhook's URL and signing secret."""

import secrets
from urllib.parse import urlsplit

from django.db import transaction
from django.utils import timezone

from rapport.audit.services import audit_changes, audit_record
from rapport.core.errors import InvalidInput
from rapport.integrations.api.models import OutboundWebhook
from rapport.users.models import User
from rapport.users.services import user_require_admin


def _secret() -> str:
    return "whsec_" + secrets.token_hex(24)


def outbound_webhook_get() -> OutboundWebhook:
    """Return the workspace's outbound webhook, made with a fresh secret on first use."""
    webhook = OutboundWebhook.objects.order_by("pk").first()
    if webhook is not None:
        return webhook
    with transaction.atomic():
        webhook = OutboundWebhook.objects.select_for_update().order_by("pk").first()
        if webhook is None:
            webhook = OutboundWebhook.objects.create(
                secret=_secret(), secret_rotated_at=timezone.now()
            )
    return webhook


def outbound_webhook_for_admin(*, actor: User) -> OutboundWebhook:
    """Return the outbound webhook with its secret, which only an admin may see."""
    user_require_admin(actor, "see the outbound webhook and its signing secret")
    return outbound_webhook_get()


def outbound_webhook_url_set(*, actor: User, url: str) -> OutboundWebhook:
    """Set (or, with "", clear) the URL that replies to API conversations are POSTed to."""
    user_require_admin(actor, "set the outbound webhook")
    url = (url or "").strip()
    if url:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidInput(
                "The webhook URL must be an http:// or https:// address.", field="url"
            )
        if len(url) > 500:
            raise InvalidInput("The webhook URL is longer than 500 characters.", field="url")
    webhook = outbound_webhook_get()
    with transaction.atomic():
        before = webhook.url
        webhook.url = url
        webhook.updated_by = actor
        webhook.save(update_fields=["url", "updated_by", "updated_at"])
        audit_record(
            actor=actor,
            action="webhook.set_url",
            obj=webhook,
            changes=audit_changes({"url": before}, {"url": url}),
        )
    return webhook


def outbound_webhook_secret_rotate(*, actor: User) -> OutboundWebhook:
    """Replace the signing secret; calls from now on are signed with the new one."""
    user_require_admin(actor, "rotate the webhook secret")
    webhook = outbound_webhook_get()
    with transaction.atomic():
        webhook.secret = _secret()
        webhook.secret_rotated_at = timezone.now()
        webhook.updated_by = actor
        webhook.save(update_fields=["secret", "secret_rotated_at", "updated_by", "updated_at"])
        audit_record(
            actor=actor,
            action="webhook.rotate_secret",
            obj=webhook,
            # The secret itself never goes into the audit trail.
            changes={"secret": {"before": "(previous)", "after": "(new)"}},
        )
    return webhook
