"""The directory's columns: the defaults, the optional ones, and the extra fields."""

from dataclasses import dataclass

from rapport.accounts.models import FieldDefinition, FieldSource
from rapport.directory.models import DirectoryPreference
from rapport.users.models import User


@dataclass(frozen=True)
class Column:
    """A column the directory can show; `key` doubles as its sort key."""

    key: str
    label: str
    group: str  # "rapport", "crm" or "field"
    field: FieldDefinition | None = None


DEFAULT_COLUMNS = (
    Column("name", "Account", "rapport"),
    Column("contacts", "Contacts", "rapport"),
    Column("primary_domain", "Primary domain", "rapport"),
    Column("slack_channel", "Slack channel", "rapport"),
    Column("owner", "Owner", "rapport"),
    Column("crm_company", "Company in CRM", "crm"),
    Column("crm_status", "CRM sync", "crm"),
)
OPTIONAL_COLUMNS = (
    Column("secondary_domains", "Secondary domains", "rapport"),
    Column("status", "Status", "rapport"),
    Column("source", "Source", "rapport"),
    Column("industry", "Industry", "rapport"),
    Column("employee_count", "Employees", "rapport"),
    Column("arr", "ARR", "rapport"),
    Column("close_date", "Close date", "rapport"),
    Column("created", "Created", "rapport"),
    Column("tier", "SLA tier", "rapport"),
    # Request figures, precomputed per account by rapport.metrics.
    Column("requests_open", "Open requests", "rapport"),
    Column("requests_total", "Total requests", "rapport"),
    Column("requests_last", "Last request", "rapport"),
    Column("requests_first_response", "Avg first response", "rapport"),
    Column("requests_resolution", "Avg resolution", "rapport"),
    Column("requests_csat", "Avg CSAT", "rapport"),
    Column("sla_breaches", "SLA breaches", "rapport"),
    Column("crm_id", "CRM company id", "crm"),
    Column("crm_last_synced", "Last CRM sync", "crm"),
)
DEFAULT_KEYS = tuple(c.key for c in DEFAULT_COLUMNS)


def field_column(field: FieldDefinition) -> Column:
    group = "crm" if field.source == FieldSource.CRM else "field"
    return Column(f"field.{field.key}", field.label, group, field)


def directory_columns_available(
    fields: list[FieldDefinition] | None = None,
) -> list[Column]:
    """Return every column a user can pick, built-in first, then CRM and Rapport fields."""
    if fields is None:
        fields = list(FieldDefinition.objects.all())
    return [*DEFAULT_COLUMNS, *OPTIONAL_COLUMNS, *(field_column(f) for f in fields)]


def directory_columns_for(user: User, fields: list[FieldDefinition]) -> list[Column]:
    """Return the columns *user* picked, or the defaults; the name column always leads."""
    by_key = {c.key: c for c in directory_columns_available(fields)}
    preference = DirectoryPreference.objects.filter(user=user).values_list("columns", flat=True)
    keys = next(iter(preference), None) if user.is_authenticated else None
    picked = [by_key[k] for k in (keys or DEFAULT_KEYS) if k in by_key]
    if not picked or picked[0].key != "name":
        picked = [by_key["name"], *(c for c in picked if c.key != "name")]
    return picked
