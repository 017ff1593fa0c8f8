"""Reads of mapping decisions: the decision in force, the report, the settings.

The report's aggregates are computed in SQL, one query each, whatever the data size.
"""

import datetime
from dataclasses import dataclass, field

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Lower, TruncDate
from django.utils import timezone

from rapport.accounts.domains import domain_normalize
from rapport.accounts.models import Account, AccountDomain
from rapport.core.errors import NotFound
from rapport.inbox.models import Conversation
from rapport.mapping.engine import MappingContext
from rapport.mapping.models import MappingDecision, MappingMethod, MappingOutcome, MappingSettings
from rapport.mapping.public_domains import domain_suffixes, public_domains_base

REPORT_DAYS = 30
CONFLICTS_SHOWN = 50
PATTERN_MIN_COUNT = 2
PATTERNS_SHOWN = 50
AUTOMATIC_OUTCOMES = (MappingOutcome.LINKED, MappingOutcome.CREATED)


def mapping_latest(conversation: Conversation) -> MappingDecision | None:
    """Return the decision in force for *conversation*."""
    return (
        MappingDecision.objects.filter(conversation=conversation)
        .select_related("account", "actor")
        .order_by("-created_at", "-id")
        .first()
    )


def mapping_decision_get(decision_id: int) -> MappingDecision:
    """Return one decision with its conversation, or raise NotFound."""
    decision = MappingDecision.objects.select_related("conversation").filter(pk=decision_id).first()
    if decision is None:
        raise NotFound(f"No mapping decision with id {decision_id}.")
    return decision


def mapping_decision_queryset(
    *, outcome: str = "", method: str = "", conversation_id: int | None = None
) -> QuerySet[MappingDecision]:
    """Return decisions, newest first, with the accounts and actor they name."""
    decisions = MappingDecision.objects.select_related("account", "previous_account", "actor")
    if outcome:
        decisions = decisions.filter(outcome=outcome)
    if method:
        decisions = decisions.filter(method=method)
    if conversation_id is not None:
        decisions = decisions.filter(conversation_id=conversation_id)
    return decisions.order_by("-created_at", "-id")


def mapping_settings_get() -> MappingSettings:
    """Return the workspace's mapping settings (the defaults when none were saved)."""
    return MappingSettings.objects.first() or MappingSettings()


# --- the report ----------------------------------------------------------------------------


@dataclass
class BarSegment:
    """One method's part of a day's bar, in percent of the widest day."""

    method: str
    label: str
    count: int
    x: float
    width: float


@dataclass
class MethodDay:
    """How many decisions each method made on one day."""

    day: datetime.date
    counts: list[int]
    total: int
    segments: list[BarSegment] = field(default_factory=list)


@dataclass
class AutomaticShare:
    """How conversations of the period ended: linked by the engine and kept, or not."""

    total: int
    automatic: int
    overridden: int
    conflicts: int
    unmatched: int

    @property
    def percent(self) -> int:
        return round(100 * self.automatic / self.total) if self.total else 0


@dataclass
class Candidate:
    """An account a conflict could be resolved to; `exists` is False once it was deleted."""

    id: int
    name: str
    via: list[str]
    exists: bool = True


@dataclass
class Conflict:
    decision: MappingDecision
    candidates: list[Candidate]


@dataclass
class OverridePattern:
    """Conversations from one domain that people keep moving to one account."""

    domain: str
    account_id: int
    account_name: str
    count: int
    primary_of: str = ""


@dataclass
class MappingReport:
    days: int
    methods: list[tuple[str, str]]
    by_day: list[MethodDay]
    method_totals: list[int]
    share: AutomaticShare
    conflicts: list[Conflict]
    conflict_count: int
    patterns: list[OverridePattern]


def mapping_decisions_by_day(
    *, days: int = REPORT_DAYS, today: datetime.date | None = None
) -> list[MethodDay]:
    """Return decisions per method for each of the last *days* days, newest day first.

    One GROUP BY on (day, method); days without decisions are filled with zeros.
    """
    tz = timezone.get_current_timezone()
    today = today or timezone.localdate()
    start = today - datetime.timedelta(days=days - 1)
    since = datetime.datetime.combine(start, datetime.time.min, tzinfo=tz)
    rows = (
        MappingDecision.objects.filter(created_at__gte=since)
        .annotate(day=TruncDate("created_at", tzinfo=tz))
        .values("day", "method")
        .annotate(n=Count("id"))
        .order_by()
    )
    methods = [m.value for m in MappingMethod]
    counts: dict[datetime.date, dict[str, int]] = {}
    for group in rows:
        counts.setdefault(group["day"], {})[group["method"]] = group["n"]
    result: list[MethodDay] = []
    for offset in range(days):
        day = today - datetime.timedelta(days=offset)
        per_method = counts.get(day, {})
        cells = [per_method.get(m, 0) for m in methods]
        result.append(MethodDay(day=day, counts=cells, total=sum(cells)))
    widest = max((d.total for d in result), default=0)
    labels = dict(MappingMethod.choices)
    for row in result:
        x = 0.0
        for method, count in zip(methods, row.counts, strict=True):
            if count and widest:
                width = 100 * count / widest
                row.segments.append(
                    BarSegment(method, labels[method], count, round(x, 2), round(width, 2))
                )
                x += width
    return result


def mapping_automatic_share(*, since: datetime.datetime) -> AutomaticShare:
    """Count the conversations started since *since* by how their mapping ended."""
    totals = Conversation.objects.filter(created_at__gte=since).aggregate(
        total=Count("id"),
        automatic=Count(
            "id",
            filter=Q(mapping_outcome__in=AUTOMATIC_OUTCOMES)
            & ~Q(mapping_method=MappingMethod.MANUAL),
        ),
        overridden=Count("id", filter=Q(mapping_method=MappingMethod.MANUAL)),
        conflicts=Count("id", filter=Q(mapping_outcome=MappingOutcome.CONFLICT)),
        unmatched=Count(
            "id",
            filter=Q(mapping_outcome=MappingOutcome.UNMATCHED)
            & ~Q(mapping_method=MappingMethod.MANUAL),
        ),
    )
    return AutomaticShare(**{key: value or 0 for key, value in totals.items()})


def mapping_conflicts_open(*, limit: int = CONFLICTS_SHOWN) -> tuple[list[Conflict], int]:
    """Return the newest unresolved conflicts with their candidate accounts, and their count."""
    open_conflicts = MappingDecision.objects.filter(outcome=MappingOutcome.CONFLICT, resolved=False)
    count = open_conflicts.count()
    decisions = list(
        open_conflicts.select_related("conversation").order_by("-created_at", "-id")[:limit]
    )
    return conflict_candidates(decisions), count


def conflict_candidates(decisions: list[MappingDecision]) -> list[Conflict]:
    """Pair each decision with its candidate accounts, under their current names.

    A candidate that several rules found (the channel and the domain) is shown once.
    """
    ids = {
        c["id"]
        for d in decisions
        for c in d.candidates
        if isinstance(c, dict) and isinstance(c.get("id"), int)
    }
    names = dict(Account.objects.filter(pk__in=ids).values_list("pk", "name")) if ids else {}
    conflicts = []
    for decision in decisions:
        merged: dict[int, Candidate] = {}
        for raw in decision.candidates:
            if not isinstance(raw, dict) or not isinstance(raw.get("id"), int):
                continue
            candidate = merged.get(raw["id"])
            if candidate is None:
                candidate = merged[raw["id"]] = Candidate(
                    id=raw["id"],
                    name=names.get(raw["id"], str(raw.get("name") or "")),
                    via=[],
                    exists=raw["id"] in names,
                )
            if raw.get("via") and raw["via"] not in candidate.via:
                candidate.via.append(str(raw["via"]))
        conflicts.append(Conflict(decision=decision, candidates=list(merged.values())))
    return conflicts


def mapping_override_patterns(
    *, min_count: int = PATTERN_MIN_COUNT, limit: int = PATTERNS_SHOWN
) -> list[OverridePattern]:
    """Return the domains whose conversations people moved to one account, again and again.

    Counts manual decisions still in force (the conversation is still on that account),
    grouped by requester domain and account, where the domain is not yet one of that
    account's domains. Public mail domains are left out: they never link by domain.
    """
    secondary = AccountDomain.objects.filter(
        account_id=OuterRef("account_id"), domain=OuterRef("requester_domain")
    )
    primary_of = Account.objects.filter(primary_domain=OuterRef("requester_domain")).values("name")[
        :1
    ]
    rows = (
        MappingDecision.objects.filter(
            method=MappingMethod.MANUAL,
            account__isnull=False,
            conversation__account_id=F("account_id"),
        )
        .exclude(requester_domain="")
        .exclude(account__primary_domain=F("requester_domain"))
        .exclude(Exists(secondary))
        .values("requester_domain", "account_id", "account__name")
        .annotate(n=Count("conversation_id", distinct=True))
        .filter(n__gte=min_count)
        .annotate(primary_of=Subquery(primary_of))
        .order_by("-n", "requester_domain", Lower("account__name"))
    )
    context = MappingContext.load()
    patterns = []
    for row in rows[: limit * 2]:
        if context.is_public(row["requester_domain"]):
            continue
        patterns.append(
            OverridePattern(
                domain=row["requester_domain"],
                account_id=row["account_id"],
                account_name=row["account__name"],
                count=row["n"],
                primary_of=row["primary_of"] or "",
            )
        )
    return patterns[:limit]


def mapping_report(*, days: int = REPORT_DAYS, today: datetime.date | None = None) -> MappingReport:
    """Return everything the mapping report page shows."""
    today = today or timezone.localdate()
    tz = timezone.get_current_timezone()
    since = datetime.datetime.combine(
        today - datetime.timedelta(days=days - 1), datetime.time.min, tzinfo=tz
    )
    by_day = mapping_decisions_by_day(days=days, today=today)
    methods = list(MappingMethod.choices)
    method_totals = [sum(d.counts[i] for d in by_day) for i in range(len(methods))]
    conflicts, conflict_count = mapping_conflicts_open()
    return MappingReport(
        days=days,
        methods=methods,
        by_day=by_day,
        method_totals=method_totals,
        share=mapping_automatic_share(since=since),
        conflicts=conflicts,
        conflict_count=conflict_count,
        patterns=mapping_override_patterns(),
    )


# --- public domains ------------------------------------------------------------------------


@dataclass
class PublicDomainAnswer:
    """Whether a domain counts as a public mail domain, and why."""

    domain: str
    public: bool
    why: str


def public_domain_check(value: str) -> PublicDomainAnswer:
    """Say whether *value* is a public mail domain under the current settings, and why.

    Raise InvalidInput when *value* is not a domain. The order of the checks is the
    engine's: an admin's removal wins, then an admin's addition, then the maintained list.
    """
    domain = domain_normalize(value.strip().rpartition("@")[2])
    settings = mapping_settings_get()
    removed = set(settings.public_domains_removed)
    added = set(settings.public_domains_added)
    base = public_domains_base()
    for suffix in domain_suffixes(domain):
        of = "" if suffix == domain else f" (through its parent domain {suffix})"
        if suffix in removed:
            return PublicDomainAnswer(
                domain, False, f"An admin removed {suffix} from the public domains{of}."
            )
        if suffix in added:
            return PublicDomainAnswer(
                domain, True, f"An admin added {suffix} to the public domains{of}."
            )
        if suffix in base:
            return PublicDomainAnswer(
                domain, True, f"{suffix} is in the maintained list of public mail domains{of}."
            )
    return PublicDomainAnswer(
        domain,
        False,
        "It is neither in the maintained list nor among the admins' additions, "
        "so mail from it links by domain.",
    )


def public_domain_refusal(domain: str) -> str | None:
    """Say why a public mail domain cannot be an account's primary domain; None for others.

    Mail from gmail.com says nothing about the sender's company, so an account with it
    as its primary domain would collect every stranger who writes from there.
    """
    answer = public_domain_check(domain)
    if not answer.public:
        return None
    return (
        f"{domain} is a public mail domain, so it cannot be an account's primary domain: "
        f"anyone can have an address there. {answer.why} Use the company's own domain."
    )


def public_domains_count() -> int:
    """Return how many domains the maintained list holds."""
    return len(public_domains_base())
