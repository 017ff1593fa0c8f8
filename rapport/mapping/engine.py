"""Resolve the account of a conversation, in the documented priority order.

1. Direct account id: an existing account is linked; an unknown id falls through.
2. Customer reference: an account's CRM company id or its external reference.
3. Slack channel: one linked account links; several go to the contact cross-reference
   (the requester's accounts among the channel's), then to the email domain; none goes
   to the email domain.
4. Email domain (public mail domains skipped): primary domains first, then secondary
   domains; several matches leave the conversation unlinked as a conflict.
5. Automatic creation, when the workspace allows it, the domain is not public and the
   requester's email is not an unverified claim (a web chat visitor the site did not
   sign could name any company's domain).

The engine only decides and never writes (its context only reads): a new account is an
`AccountToCreate` on the result, and `mapping.services` creates it and stores the decision.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import batched
from typing import Any

from django.db.models import Q, QuerySet

from rapport.accounts.domains import domain_normalize
from rapport.accounts.models import Account, AccountDomain, AccountSource
from rapport.core.errors import InvalidInput
from rapport.mapping.models import MappingMethod, MappingOutcome, MappingSettings
from rapport.mapping.public_domains import domain_is_public

_GENERIC_SECOND_LEVEL = {"co", "com", "org", "net", "ac", "gov", "edu", "or", "ne", "go"}
NOT_LINKED = "Not linked: "


@dataclass(frozen=True)
class MappingRequest:
    """What an inbound conversation tells about its account."""

    requester_email: str = ""
    account_id: int | None = None
    customer_ref: str = ""
    channel_id: int | None = None
    source: str = AccountSource.API
    # False for an email nobody verified: it may link to an existing account, never
    # create one.
    may_create: bool = True


@dataclass(frozen=True)
class AccountToCreate:
    """An account the engine decided to create for a new email domain."""

    name: str
    domain: str
    source: str

    def created(self, account: Account) -> "MappingResult":
        """Return the decision carried out: *account* was created for the domain."""
        reason = f"Created the account {account.name} for the new domain {self.domain}."
        candidates = [_candidate(account, f"new domain {self.domain}")]
        return MappingResult(
            MappingMethod.AUTO_CREATE, MappingOutcome.CREATED, account, reason, candidates
        )

    def taken(self, winner: Account) -> "MappingResult":
        """Return the decision when *winner* got the domain first: link to it."""
        return _by_primary_domain(winner, self.domain)


@dataclass
class MappingResult:
    """The engine's decision; with `create` set, `account` is None until it is created."""

    method: str
    outcome: str
    account: Account | None
    reason: str
    candidates: list[dict[str, Any]] = field(default_factory=list)
    requester_domain: str = ""
    create: AccountToCreate | None = None


@dataclass
class _ChannelLinks:
    name: str
    accounts: list[Account]  # by name


@dataclass
class MappingContext:
    """The workspace's mapping settings, and what one batch of conversations has read.

    A context serves one batch: the accounts, channels and contacts the engine looks up
    are remembered, and the accounts it creates and the contacts the batch links are
    noted, so later conversations of the batch see them without asking the database
    again. Load a new context for each batch; `prefetch` reads a batch's needs at once.
    """

    auto_create: bool
    public_added: list[str]
    public_removed: list[str]
    _accounts: dict[int, Account | None] = field(default_factory=dict, init=False, repr=False)
    _primary: dict[str, Account | None] = field(default_factory=dict, init=False, repr=False)
    _secondary: dict[str, list[Account]] = field(default_factory=dict, init=False, repr=False)
    _refs: dict[str, list[Account]] = field(default_factory=dict, init=False, repr=False)
    _channels: dict[int, _ChannelLinks | None] = field(default_factory=dict, init=False, repr=False)
    _contacts: dict[str, set[int]] = field(default_factory=dict, init=False, repr=False)
    _linked: dict[str, set[int]] = field(default_factory=dict, init=False, repr=False)
    _public: dict[str, bool] = field(default_factory=dict, init=False, repr=False)

    @classmethod
    def load(cls) -> "MappingContext":
        settings = MappingSettings.objects.first() or MappingSettings()
        return cls(
            auto_create=settings.auto_create_accounts,
            public_added=list(settings.public_domains_added),
            public_removed=list(settings.public_domains_removed),
        )

    def fresh(self) -> "MappingContext":
        """Return a context with the same settings and nothing read yet."""
        return MappingContext(self.auto_create, list(self.public_added), list(self.public_removed))

    def is_public(self, domain: str) -> bool:
        if domain not in self._public:
            self._public[domain] = domain_is_public(
                domain, added=self.public_added, removed=self.public_removed
            )
        return self._public[domain]

    # --- what the engine reads, once per batch ---------------------------------------------

    def prefetch(self, requests: Iterable[MappingRequest]) -> None:
        """Read what *requests* will need in a few queries rather than a few per request."""
        requests = list(requests)
        self._accounts_load(r.account_id for r in requests if r.account_id is not None)
        self._refs_load(r.customer_ref.strip() for r in requests if r.customer_ref.strip())
        channel_ids = [r.channel_id for r in requests if r.channel_id is not None]
        self._channels_load(channel_ids)
        domains = {email_domain(r.requester_email) for r in requests}
        self._domains_load(d for d in domains if d and not self.is_public(d))
        shared = {
            pk for pk in channel_ids if (links := self._channels[pk]) and len(links.accounts) > 1
        }
        self._contacts_load(
            email
            for r in requests
            if r.channel_id in shared and (email := contact_address(r.requester_email))
        )

    def account(self, account_id: Any) -> Account | None:
        key = _account_key(account_id)
        if key not in self._accounts:
            self._accounts_load([key])
        return self._accounts[key]

    def account_by_primary_domain(self, domain: str) -> Account | None:
        if domain not in self._primary:
            self._domains_load([domain])
        return self._primary[domain]

    def accounts_by_secondary_domain(self, domain: str) -> list[Account]:
        if domain not in self._secondary:
            self._domains_load([domain])
        return self._secondary[domain]

    def accounts_by_ref(self, ref: str) -> list[Account]:
        if ref not in self._refs:
            self._refs_load([ref])
        return self._refs[ref]

    def channel(self, channel_id: int) -> _ChannelLinks | None:
        if channel_id not in self._channels:
            self._channels_load([channel_id])
        return self._channels[channel_id]

    def contact_account_ids(self, email: str) -> set[int]:
        """Return the accounts the person with (normalized) *email* is a contact of."""
        if email not in self._contacts:
            self._contacts_load([email])
        return self._contacts[email] | self._linked.get(email, set())

    def domains_unclaimed(self, requests: Iterable[MappingRequest]) -> list[str]:
        """Return the domains of *requests* that the engine may create accounts for.

        Those no account holds, as prefetched: a superset of what the batch creates.
        """
        if not self.auto_create:
            return []
        found = set()
        for request in requests:
            domain = email_domain(request.requester_email)
            if (
                domain
                and request.may_create
                and domain in self._primary
                and self._primary[domain] is None
                and not self._secondary.get(domain)
                and not self.is_public(domain)
            ):
                found.add(domain)
        return sorted(found)

    # --- what the batch changes ------------------------------------------------------------

    def account_created(self, account: Account) -> None:
        """Note an account created for its primary domain."""
        self._accounts[account.pk] = account
        if account.primary_domain:
            self._primary[account.primary_domain] = account

    def contact_linked(self, email: str, account_id: int) -> None:
        """Note that the batch makes the person with *email* a contact of an account."""
        self._linked.setdefault(email, set()).add(account_id)

    # --- loading ---------------------------------------------------------------------------

    def _accounts_load(self, account_ids: Iterable[Any]) -> None:
        keys = {_account_key(pk) for pk in account_ids} - self._accounts.keys()
        for chunk in batched(sorted(keys), _CHUNK):
            found = {a.pk: a for a in _accounts().filter(pk__in=chunk).order_by()}
            self._accounts.update((pk, found.get(pk)) for pk in chunk)

    def _refs_load(self, refs: Iterable[str]) -> None:
        wanted = set(refs) - self._refs.keys()
        for chunk in batched(sorted(wanted), _CHUNK):
            found: dict[str, list[Account]] = {ref: [] for ref in chunk}
            for account in _accounts().filter(
                Q(crm_external_id__in=chunk) | Q(external_ref__in=chunk)
            ):
                for ref in {account.crm_external_id, account.external_ref} & found.keys():
                    found[ref].append(account)
            self._refs.update(found)

    def _channels_load(self, channel_ids: Iterable[int]) -> None:
        from rapport.inbox.models import Channel, ChannelAccount

        wanted = set(channel_ids) - self._channels.keys()
        for chunk in batched(sorted(wanted), _CHUNK):
            found = {
                pk: _ChannelLinks(name, [])
                for pk, name in Channel.objects.filter(pk__in=chunk).values_list("pk", "name")
            }
            links = (
                ChannelAccount.objects.filter(channel_id__in=found)
                .select_related("account")
                .only("channel_id", *(f"account__{name}" for name in _ACCOUNT_FIELDS))
                .order_by("channel_id", "account__name", "account_id")
            )
            for link in links:
                found[link.channel_id].accounts.append(link.account)
            self._channels.update((pk, found.get(pk)) for pk in chunk)

    def _domains_load(self, domains: Iterable[str]) -> None:
        wanted = set(domains) - self._primary.keys()
        for chunk in batched(sorted(wanted), _CHUNK):
            primary = {
                a.primary_domain: a for a in _accounts().filter(primary_domain__in=chunk).order_by()
            }
            # Most domains are no account's secondary domain: ask for ids first, and read
            # the accounts only for those that are.
            held = list(
                AccountDomain.objects.filter(domain__in=chunk)
                .order_by()
                .values_list("domain", "account_id")
            )
            self._accounts.update((a.pk, a) for a in primary.values())
            self._accounts_load(account_id for _, account_id in held)
            secondary: dict[str, list[Account]] = {domain: [] for domain in chunk}
            for domain, account_id in held:
                if (account := self._accounts[account_id]) is not None:
                    secondary[domain].append(account)
            for accounts in secondary.values():
                accounts.sort(key=lambda a: (a.name, a.pk))
            for domain in chunk:
                self._primary[domain] = primary.get(domain)
                self._secondary[domain] = secondary[domain][:20]

    def _contacts_load(self, emails: Iterable[str]) -> None:
        from rapport.accounts.models import AccountContact

        wanted = set(emails) - self._contacts.keys()
        for chunk in batched(sorted(wanted), _CHUNK):
            found: dict[str, set[int]] = {email: set() for email in chunk}
            for email, account_id in AccountContact.objects.filter(
                contact__email__in=chunk
            ).values_list("contact__email", "account_id"):
                found[email].add(account_id)
            self._contacts.update(found)


# What the engine reads of an account: it names accounts and links to them. Other fields
# load on first use.
_ACCOUNT_FIELDS = ("id", "name", "primary_domain", "crm_external_id", "external_ref")
_CHUNK = 500  # values per IN (...), well under SQLite's limit on parameters


def _accounts() -> "QuerySet[Account]":
    return Account.objects.only(*_ACCOUNT_FIELDS)


def _account_key(account_id: Any) -> int:
    """Return *account_id* as the database compares it (a ValueError if it is no id)."""
    return int(Account._meta.pk.get_prep_value(account_id))


@lru_cache(maxsize=16_384)
def _host_normalize(host: str) -> str:
    """Return `domain_normalize(host)`, or "" for a host that is not a domain.

    Cached: a batch of mail comes from a few thousand domains, and the IDNA checks of
    `domain_normalize` cost more than the rest of a message's mapping.
    """
    try:
        return domain_normalize(host)
    except InvalidInput:
        return ""


def contact_address(email: str) -> str:
    """Return *email* as contacts store it, or "" when it cannot be a contact's.

    The same as `accounts.services.contact_normalize_email`, with the domain part cached.
    """
    local, _, host = (email or "").strip().lower().rpartition("@")
    domain = _host_normalize(host) if local else ""
    normalized = f"{local}@{domain}" if domain else ""
    return normalized if len(normalized) <= 254 else ""


def _candidate(account: Account, via: str) -> dict[str, Any]:
    return {"id": account.pk, "name": account.name, "via": via}


def _names(accounts: list[Account]) -> str:
    names = [a.name for a in accounts]
    return ", ".join(names[:-1]) + f" and {names[-1]}" if len(names) > 1 else names[0]


def email_domain(email: str) -> str:
    """Return the normalized domain of an email address, or "" when it has none."""
    _, _, host = (email or "").strip().rpartition("@")
    return _host_normalize(host) if host else ""


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
    """Decide the account of a conversation, or the account to create for it."""
    domain = email_domain(request.requester_email)
    result = _resolve_direct(request, context) or _resolve_customer_ref(request, context)
    if result is None:
        result = _resolve_channel(request, domain, context)
    if result is None:
        result = _resolve_domain(request, domain, context)
    result.requester_domain = domain
    return result


def _resolve_direct(request: MappingRequest, context: MappingContext) -> MappingResult | None:
    if request.account_id is None:
        return None
    account = context.account(request.account_id)
    if account is None:
        return None
    return MappingResult(
        MappingMethod.ACCOUNT_ID,
        MappingOutcome.LINKED,
        account,
        f"Linked to {account.name} by the account id given with the conversation.",
        [_candidate(account, "account id")],
    )


def _resolve_customer_ref(request: MappingRequest, context: MappingContext) -> MappingResult | None:
    ref = request.customer_ref.strip()
    if not ref:
        return None
    matches = context.accounts_by_ref(ref)
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
    channel = context.channel(request.channel_id)
    if channel is None:
        return None
    linked = channel.accounts
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
    if contact_email := contact_address(email):
        contact_of = context.contact_account_ids(contact_email)
        known = [a for a in linked if a.pk in contact_of]
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
        # "Not linked: no account has the domain x." -> "no account has the domain x."
        detail = result.reason.removeprefix(NOT_LINKED)
        result.reason = (
            f"{NOT_LINKED}#{channel.name} is shared by {_names(linked)}, and "
            f"{detail[0].lower()}{detail[1:]}"
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
    primary = context.account_by_primary_domain(domain)
    if primary is not None:
        return _by_primary_domain(primary, domain)
    secondary = context.accounts_by_secondary_domain(domain)
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
    if allow_create and context.auto_create and request.may_create:
        name = account_name_from_domain(domain)
        return MappingResult(
            MappingMethod.AUTO_CREATE,
            MappingOutcome.CREATED,
            None,
            f"Create the account {name} for the new domain {domain}.",
            create=AccountToCreate(name, domain, request.source),
        )
    ending = "."
    if allow_create and not context.auto_create:
        ending = ", and automatic account creation is off."
    elif allow_create and not request.may_create:
        ending = ", and an unverified email address never creates an account."
    return MappingResult(
        MappingMethod.EMAIL_DOMAIN,
        MappingOutcome.UNMATCHED,
        None,
        f"Not linked: no account has the domain {domain}{ending}",
    )


def _by_primary_domain(account: Account, domain: str) -> MappingResult:
    return MappingResult(
        MappingMethod.EMAIL_DOMAIN,
        MappingOutcome.LINKED,
        account,
        f"Linked to {account.name} by primary domain {domain}.",
        [_candidate(account, f"primary domain {domain}")],
    )
