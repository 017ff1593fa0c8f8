"""Resolve the account of a conversation, in the documented priority order.

1. Direct account id: an existing account is linked; an unknown id falls through.
2. Customer reference: an account's CRM company id or its external reference.
3. Slack channel: one linked account links; several go to the contact cross-reference
   (the requester's accounts among the channel's), then to the email domain; none goes
   to the email domain.
4. Email domain (public mail domains skipped): primary domains first, then secondary
   domains; several matches leave the conversation unlinked as a conflict.
5. Automatic creation, when the workspace allows it and the domain is not public.

The engine only decides; `mapping.services` stores the decision.
"""

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q

from rapport.accounts.domains import domain_normalize
from rapport.accounts.models import Account, AccountDomain, AccountSource
from rapport.errors import Conflict, InvalidInput
from rapport.mapping.models import MappingMethod, MappingOutcome, MappingSettings
from rapport.mapping.public_domains import domain_is_public

_GENERIC_SECOND_LEVEL = {"co", "com", "org", "net", "ac", "gov", "edu", "or", "ne", "go"}


@dataclass(frozen=True)
class MappingRequest:
    """What an inbound conversation tells about its account."""

    requester_email: str = ""
    account_id: int | None = None
    customer_ref: str = ""
    channel_id: int | None = None
    source: str = AccountSource.API


@dataclass
class MappingResult:
    method: str
    outcome: str
    account: Account | None
    reason: str
    candidates: list[dict[str, Any]] = field(default_factory=list)
    requester_domain: str = ""


@dataclass
class MappingContext:
    """Settings read once per batch of conversations."""

    auto_create: bool
    public_added: list[str]
    public_removed: list[str]

    @classmethod
    def load(cls) -> "MappingContext":
        settings = MappingSettings.objects.first() or MappingSettings()
        return cls(
            auto_create=settings.auto_create_accounts,
            public_added=list(settings.public_domains_added),
            public_removed=list(settings.public_domains_removed),
        )

    def is_public(self, domain: str) -> bool:
        return domain_is_public(domain, added=self.public_added, removed=self.public_removed)


def _candidate(account: Account, via: str) -> dict[str, Any]:
    return {"id": account.pk, "name": account.name, "via": via}


def _names(accounts: list[Account]) -> str:
    names = [a.name for a in accounts]
    return ", ".join(names[:-1]) + f" and {names[-1]}" if len(names) > 1 else names[0]


def email_domain(email: str) -> str:
    """Return the normalized domain of an email address, or "" when it has none."""
    _, _, host = (email or "").strip().rpartition("@")
    if not host:
        return ""
    try:
        return domain_normalize(host)
    except InvalidInput:
        return ""


def account_name_from_domain(domain: str) -> str:
    """Derive an account name from a domain: `acmecorp.com` → `Acmecorp`."""
    labels = domain.split(".")
    if len(labels) >= 3 and labels[-2] in _GENERIC_SECOND_LEVEL and len(labels[-1]) == 2:
        labels = labels[:-1]
    base = labels[-2] if len(labels) >= 2 else labels[0]
    if base.startswith("xn--"):
        from rapport.accounts.domains import domain_display

        base = domain_display(base)
    words = [w for w in base.replace("_", "-").split("-") if w]
    return " ".join(w[:1].upper() + w[1:] for w in words) or domain


def mapping_resolve(request: MappingRequest, context: MappingContext) -> MappingResult:
    """Decide the account of a conversation; create one when the settings allow it."""
    domain = email_domain(request.requester_email)
    result = _resolve_direct(request) or _resolve_customer_ref(request)
    if result is None:
        result = _resolve_channel(request, domain, context)
    if result is None:
        result = _resolve_domain(request, domain, context)
    result.requester_domain = domain
    return result


def _resolve_direct(request: MappingRequest) -> MappingResult | None:
    if request.account_id is None:
        return None
    account = Account.objects.filter(pk=request.account_id).first()
    if account is None:
        return None
    return MappingResult(
        MappingMethod.ACCOUNT_ID,
        MappingOutcome.LINKED,
        account,
        f"Linked to {account.name} by the account id given with the conversation.",
        [_candidate(account, "account id")],
    )


def _resolve_customer_ref(request: MappingRequest) -> MappingResult | None:
    ref = request.customer_ref.strip()
    if not ref:
        return None
    matches = list(Account.objects.filter(Q(crm_external_id=ref) | Q(external_ref=ref))[:5])
    if len(matches) != 1:
        return None
    account = matches[0]
    via = "CRM id" if account.crm_external_id == ref else "external reference"
    return MappingResult(
        MappingMethod.CUSTOMER_REF,
        MappingOutcome.LINKED,
        account,
        f"Linked to {account.name} by its {via} {ref}.",
        [_candidate(account, f"{via} {ref}")],
    )


def _resolve_channel(
    request: MappingRequest, domain: str, context: MappingContext
) -> MappingResult | None:
    if request.channel_id is None:
        return None
    from rapport.inbox.models import Channel

    channel = Channel.objects.filter(pk=request.channel_id).first()
    if channel is None:
        return None
    linked = list(channel.accounts.order_by("name"))
    if len(linked) == 1:
        account = linked[0]
        return MappingResult(
            MappingMethod.SLACK_CHANNEL,
            MappingOutcome.LINKED,
            account,
            f"Linked to {account.name} by the Slack channel #{channel.name}.",
            [_candidate(account, f"Slack channel #{channel.name}")],
        )
    if not linked:
        return None
    candidates = [_candidate(a, f"Slack channel #{channel.name}") for a in linked]
    email = request.requester_email.strip().lower()
    if email:
        known = [
            a
            for a in linked
            if a.contacts.filter(email=email).exists()  # at most a handful of accounts
        ]
        if len(known) == 1:
            account = known[0]
            return MappingResult(
                MappingMethod.CONTACT,
                MappingOutcome.LINKED,
                account,
                f"Linked to {account.name}: #{channel.name} is shared by {_names(linked)}, "
                f"and {email} is a contact of {account.name} only.",
                candidates,
            )
    # Several accounts share the channel and the contact does not settle it: the email
    # domain decides, among all accounts.
    result = _resolve_domain(request, domain, context, allow_create=False)
    if result.account is None:
        result.candidates = candidates + result.candidates
        result.outcome = MappingOutcome.CONFLICT
        result.method = MappingMethod.SLACK_CHANNEL
        result.reason = (
            f"Not linked: #{channel.name} is shared by {_names(linked)}, and "
            f"{result.reason[0].lower()}{result.reason[1:]}"
        )
    return result


def _resolve_domain(
    request: MappingRequest,
    domain: str,
    context: MappingContext,
    *,
    allow_create: bool = True,
) -> MappingResult:
    if not domain:
        return MappingResult(
            MappingMethod.NONE,
            MappingOutcome.UNMATCHED,
            None,
            "Not linked: the requester has no email address to match.",
        )
    if context.is_public(domain):
        return MappingResult(
            MappingMethod.EMAIL_DOMAIN,
            MappingOutcome.UNMATCHED,
            None,
            f"Not linked: {domain} is a public email domain, so it says nothing about the company.",
        )
    primary = Account.objects.filter(primary_domain=domain).first()
    if primary is not None:
        return MappingResult(
            MappingMethod.EMAIL_DOMAIN,
            MappingOutcome.LINKED,
            primary,
            f"Linked to {primary.name} by primary domain {domain}.",
            [_candidate(primary, f"primary domain {domain}")],
        )
    secondary = list(
        Account.objects.filter(
            pk__in=AccountDomain.objects.filter(domain=domain).values("account_id")
        ).order_by("name")[:20]
    )
    candidates = [_candidate(a, f"secondary domain {domain}") for a in secondary]
    if len(secondary) == 1:
        account = secondary[0]
        return MappingResult(
            MappingMethod.EMAIL_DOMAIN,
            MappingOutcome.LINKED,
            account,
            f"Linked to {account.name} by secondary domain {domain}.",
            candidates,
        )
    if len(secondary) > 1:
        return MappingResult(
            MappingMethod.EMAIL_DOMAIN,
            MappingOutcome.CONFLICT,
            None,
            f"Not linked: {domain} is a secondary domain of {_names(secondary)}.",
            candidates,
        )
    if allow_create and context.auto_create:
        return _create_account(request, domain)
    return MappingResult(
        MappingMethod.EMAIL_DOMAIN,
        MappingOutcome.UNMATCHED,
        None,
        f"Not linked: no account has the domain {domain}"
        + (
            "."
            if not allow_create or context.auto_create
            else ", and automatic account creation is off."
        ),
    )


def _create_account(request: MappingRequest, domain: str) -> MappingResult:
    from rapport.accounts.services import account_create

    name = account_name_from_domain(domain)
    try:
        account = account_create(
            actor=None, name=name, primary_domain=domain, source=request.source
        )
    except Conflict:
        # Another message from the same new domain created it first: link to that one.
        winner = Account.objects.get(primary_domain=domain)
        return MappingResult(
            MappingMethod.EMAIL_DOMAIN,
            MappingOutcome.LINKED,
            winner,
            f"Linked to {winner.name} by primary domain {domain}.",
            [_candidate(winner, f"primary domain {domain}")],
        )
    return MappingResult(
        MappingMethod.AUTO_CREATE,
        MappingOutcome.CREATED,
        account,
        f"Created the account {account.name} for the new domain {domain}.",
        [_candidate(account, f"new domain {domain}")],
    )
