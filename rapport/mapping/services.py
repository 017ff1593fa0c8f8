"""Store mapping decisions, and let people override them."""

import contextlib

from django.db import transaction

from rapport.accounts.models import Account
from rapport.audit.services import audit_record
from rapport.errors import InvalidInput
from rapport.inbox.models import Conversation
from rapport.mapping.engine import MappingContext, MappingRequest, mapping_resolve
from rapport.mapping.models import MappingDecision, MappingMethod, MappingOutcome, MappingSettings
from rapport.users.models import User
from rapport.users.services import user_require_admin


def mapping_decide(
    conversation: Conversation, request: MappingRequest, context: MappingContext
) -> MappingDecision:
    """Resolve and record the account of *conversation*."""
    result = mapping_resolve(request, context)
    decision = MappingDecision.objects.create(
        conversation=conversation,
        method=result.method,
        outcome=result.outcome,
        account=result.account,
        candidates=result.candidates,
        reason=result.reason[:500],
        requester_domain=result.requester_domain,
    )
    Conversation.objects.filter(pk=conversation.pk).update(
        account=result.account, mapping_method=result.method, mapping_outcome=result.outcome
    )
    return decision


@transaction.atomic
def mapping_override(
    *, actor: User, conversation: Conversation, account: Account | None
) -> MappingDecision:
    """Move *conversation* to *account* by hand (None unlinks it), keeping the history.

    The automatic decisions before it are marked overridden, and open conflicts of the
    conversation count as resolved.
    """
    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    previous = conversation.account
    if previous == account:
        raise InvalidInput(
            f"The conversation is already linked to {account.name}."
            if account
            else "The conversation is already unlinked."
        )
    MappingDecision.objects.filter(conversation=conversation).update(overridden=True, resolved=True)
    if account is not None:
        reason = f"Moved to {account.name} by {actor.display_name}" + (
            f" (was {previous.name})." if previous else "."
        )
    else:
        reason = f"Unlinked by {actor.display_name} (was {previous.name})." if previous else ""
    decision = MappingDecision.objects.create(
        conversation=conversation,
        method=MappingMethod.MANUAL,
        outcome=MappingOutcome.LINKED if account else MappingOutcome.UNMATCHED,
        account=account,
        previous_account=previous,
        candidates=[{"id": account.pk, "name": account.name, "via": "chosen by a person"}]
        if account
        else [],
        reason=reason[:500],
        requester_domain=conversation.mapping_decisions.values_list(
            "requester_domain", flat=True
        ).first()
        or "",
        actor=actor,
        resolved=True,
    )
    conversation.account = account
    conversation.mapping_method = MappingMethod.MANUAL
    conversation.mapping_outcome = decision.outcome
    conversation.save(update_fields=["account", "mapping_method", "mapping_outcome"])
    audit_record(
        actor=actor,
        action="conversation.account",
        obj=conversation,
        changes={
            "account": {
                "before": previous.name if previous else None,
                "after": account.name if account else None,
            }
        },
    )
    if account is not None and conversation.requester_email:
        from rapport.accounts.services import contact_add_to_account

        with contextlib.suppress(InvalidInput):
            contact_add_to_account(
                account=account,
                email=conversation.requester_email,
                name=conversation.requester_name,
            )
    return decision


@transaction.atomic
def mapping_settings_update(
    *,
    actor: User,
    auto_create_accounts: bool | None = None,
    public_domains_added: list[str] | None = None,
    public_domains_removed: list[str] | None = None,
) -> MappingSettings:
    """Change the workspace's mapping settings (admins only)."""
    from rapport.accounts.domains import domain_normalize

    user_require_admin(actor, "change the mapping settings")
    settings = MappingSettings.objects.select_for_update().first() or MappingSettings()
    before = {
        "auto_create_accounts": settings.auto_create_accounts,
        "public_domains_added": list(settings.public_domains_added),
        "public_domains_removed": list(settings.public_domains_removed),
    }
    if auto_create_accounts is not None:
        settings.auto_create_accounts = auto_create_accounts
    if public_domains_added is not None:
        settings.public_domains_added = sorted({domain_normalize(d) for d in public_domains_added})
    if public_domains_removed is not None:
        settings.public_domains_removed = sorted(
            {domain_normalize(d) for d in public_domains_removed}
        )
    settings.save()
    after = {
        "auto_create_accounts": settings.auto_create_accounts,
        "public_domains_added": settings.public_domains_added,
        "public_domains_removed": settings.public_domains_removed,
    }
    from rapport.audit.services import audit_changes

    audit_record(
        actor=actor, action="mapping.settings", obj=settings, changes=audit_changes(before, after)
    )
    return settings
