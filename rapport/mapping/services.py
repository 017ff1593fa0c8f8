"""Carry out and store mapping decisions, and let people override them."""

import contextlib
import dataclasses
import hashlib
from collections.abc import Iterable, Sequence

from django.db import connection, transaction

from rapport.accounts.models import Account, AccountContact, Contact
from rapport.accounts.services import account_create
from rapport.accounts.services_contacts import (
    contact_add_to_account,
    contact_normalize_email,
    contact_remove_from_account,
)
from rapport.audit.services import audit_record
from rapport.core.errors import Conflict, InvalidInput, NotFound
from rapport.inbox.models import Conversation, RequesterIdentity
from rapport.mapping.engine import (
    AccountToCreate,
    MappingContext,
    MappingRequest,
    MappingResult,
    mapping_resolve,
)
from rapport.mapping.models import MappingDecision, MappingMethod, MappingOutcome, MappingSettings
from rapport.metrics.services import account_request_metrics_refresh
from rapport.requests.services import requests_move_to_account
from rapport.users.models import User
from rapport.users.services import user_require_admin


def mapping_decision_apply(
    conversation: Conversation, result: MappingResult, context: MappingContext
) -> MappingResult:
    """Carry out the engine's *result* for *conversation*; return the decision to record.

    A decision to create an account creates it here, and *context* learns of it so the
    batch's later conversations from the domain link to it. The conversation's account
    and mapping fields are set in memory; `mapping_decisions_record` stores the returned
    decision once the conversation is saved (the ingest batch saves both at its end).
    """
    if result.create is not None:
        done = _account_create_for_domain(result.create, context)
        result = dataclasses.replace(done, requester_domain=result.requester_domain)
    conversation.account = result.account
    conversation.mapping_method = result.method
    conversation.mapping_outcome = result.outcome
    return result


# The class of the PostgreSQL advisory locks taken by `mapping_creation_lock` ("RPCR").
_CREATION_LOCK_CLASS = 0x52504352


def mapping_creation_lock(domains: Iterable[str]) -> None:
    """Let one transaction at a time create the account of each of *domains*, until it ends.

    On PostgreSQL two transactions creating an account for the same new domain would
    both insert it, and the later one would fail on the unique primary domain; one that
    creates two while another creates the same two in the other order would wait for the
    other's uncommitted row (a deadlock). So each domain has a lock, taken in one order
    (a batch takes all of its unclaimed domains' locks at once, before creating any), and
    transactions creating accounts for other domains go on side by side. The loser of a
    race then finds the winner's account, and links to it. SQLite's IMMEDIATE
    transactions already take turns.
    """
    if connection.vendor != "postgresql":
        return
    keys = sorted({_domain_key(domain) for domain in domains})
    with connection.cursor() as cursor:
        for key in keys:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_CREATION_LOCK_CLASS, key])


def _domain_key(domain: str) -> int:
    """Return a stable 32-bit signed key for *domain* (collisions only make two wait)."""
    return int.from_bytes(hashlib.blake2b(domain.encode(), digest_size=4).digest(), signed=True)


def _account_create_for_domain(
    to_create: AccountToCreate, context: MappingContext
) -> MappingResult:
    mapping_creation_lock([to_create.domain])
    try:
        account = account_create(
            actor=None,
            name=to_create.name,
            primary_domain=to_create.domain,
            source=to_create.source,
        )
    except Conflict:
        # Another message from the same new domain created it first: link to that one.
        winner = Account.objects.get(primary_domain=to_create.domain)
        context.account_created(winner)
        return to_create.taken(winner)
    context.account_created(account)
    return to_create.created(account)


def mapping_decisions_record(
    decided: Sequence[tuple[Conversation, MappingResult]],
) -> list[MappingDecision]:
    """Store the decision for each saved conversation of *decided*, at once.

    The one place that writes automatic decisions: the ingest batch calls it once per
    batch, with decisions `mapping_decision_apply` carried out (which set each
    conversation's account and mapping fields; the caller writes the conversations).
    """
    decisions = []
    for conversation, result in decided:
        if result.create is not None:
            raise ValueError("Carry the decision out with mapping_decision_apply first.")
        decisions.append(
            MappingDecision(
                conversation=conversation,
                method=result.method,
                outcome=result.outcome,
                account=result.account,
                candidates=result.candidates,
                reason=result.reason[:500],
                requester_domain=result.requester_domain,
            )
        )
    return MappingDecision.objects.bulk_create(decisions, batch_size=500)


def mapping_decide(
    conversation: Conversation, request: MappingRequest, context: MappingContext
) -> MappingDecision:
    """Resolve, carry out and record the account of one saved *conversation*."""
    result = mapping_decision_apply(conversation, mapping_resolve(request, context), context)
    [decision] = mapping_decisions_record([(conversation, result)])
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
    conversation count as resolved. The conversation's requests move with it, and the
    request figures of both accounts are refreshed at once. The requester becomes a
    contact of *account*; a contact link the previous move created is undone, so a
    conversation moved by mistake and back leaves no trace among the contacts.
    """
    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    previous = conversation.account
    if previous == account:
        raise InvalidInput(
            f"The conversation is already linked to {account.name}."
            if account
            else "The conversation is already unlinked."
        )
    in_force = (
        MappingDecision.objects.filter(conversation=conversation)
        .select_related("linked_contact")
        .order_by("-created_at", "-id")
        .first()
    )
    if previous is not None and in_force is not None and in_force.account_id == previous.pk:
        _contact_link_undo(actor, previous, in_force.linked_contact)
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
    # An unverified email (a web chat visitor the site did not sign) stays a claim: a
    # person moving the conversation does not vouch for who wrote it.
    if (
        account is not None
        and conversation.requester_email
        and conversation.requester_identity != RequesterIdentity.UNVERIFIED
    ):
        with contextlib.suppress(InvalidInput):
            contact, linked = _contact_link(actor, account, conversation)
            if linked:
                decision.linked_contact = contact
                decision.save(update_fields=["linked_contact"])
            if conversation.requester_id != contact.pk:
                Conversation.objects.filter(pk=conversation.pk).update(requester=contact)
                conversation.requester = contact
    left = requests_move_to_account(
        conversation_id=conversation.pk, account_id=account.pk if account else None
    )
    refresh = left | {a.pk for a in (previous, account) if a is not None}
    account_request_metrics_refresh(sorted(refresh))
    return decision


def _contact_link(
    actor: User, account: Account, conversation: Conversation
) -> tuple[Contact, bool]:
    """Make the requester a contact of *account*; say whether this linked them."""
    email = contact_normalize_email(conversation.requester_email)
    known = AccountContact.objects.filter(account=account, contact__email=email).exists()
    contact = contact_add_to_account(
        account=account, email=email, name=conversation.requester_name, actor=actor
    )
    return contact, not known


def _contact_link_undo(actor: User, account: Account, contact: Contact | None) -> None:
    """Remove the contact link a move to *account* created, if it is still there."""
    if contact is None:
        return
    with contextlib.suppress(NotFound):  # removed by hand since
        contact_remove_from_account(actor=actor, account=account, contact=contact)


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


@transaction.atomic
def mapping_conflict_resolve(
    *, actor: User, decision: MappingDecision, account: Account
) -> MappingDecision:
    """Resolve an open conflict by linking its conversation to one of the candidate accounts."""
    decision = MappingDecision.objects.select_for_update().get(pk=decision.pk)
    if decision.outcome != MappingOutcome.CONFLICT:
        raise InvalidInput("This decision is not a conflict.")
    if decision.resolved:
        raise Conflict("This conflict was already resolved.")
    candidate_ids = {c.get("id") for c in decision.candidates if isinstance(c, dict)}
    if account.pk not in candidate_ids:
        raise InvalidInput(f"{account.name} is not one of the candidates of this conflict.")
    return mapping_override(actor=actor, conversation=decision.conversation, account=account)


@transaction.atomic
def mapping_pattern_apply(*, actor: User, account: Account, domain: str) -> Account:
    """Add *domain* to the secondary domains of *account* (admins only).

    The mapping report suggests it when people keep moving conversations from *domain*
    to *account*; afterwards the engine links such mail by the secondary domain.
    """
    from rapport.accounts.domains import domain_normalize
    from rapport.accounts.services import account_update

    user_require_admin(actor, "add a domain to an account")
    domain = domain_normalize(domain)
    existing = list(account.domains.values_list("domain", flat=True))
    if domain == account.primary_domain or domain in existing:
        raise InvalidInput(f"{domain} is already a domain of {account.name}.")
    if MappingContext.load().is_public(domain):
        raise InvalidInput(f"{domain} is a public mail domain; it cannot identify an account.")
    return account_update(actor=actor, account=account, secondary_domains=[*existing, domain])
