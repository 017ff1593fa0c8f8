"""The fields of an account, each declared once.

The account page's forms, the `/api/v1/accounts` schemas and `account_create` /
`account_update` derive from these declarations. An extra field an admin defines gets
its declaration from its FieldDefinition (`field_spec`): its form field, the service
that stores its values and the directory's filters on it share that one FieldSpec.
"""

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from rapport.accounts.models import AccountStatus, CompanySize, FieldDefinition, FieldType
from rapport.core.specs import FieldSpec, Kind, specs_by_name

# Bounds people never reach but the columns would refuse past: ARR is 14 digits with
# cents; an extra number field is 20 digits with 4 decimals.
MAX_EMPLOYEES = 10_000_000
MAX_ARR = Decimal("999999999999.99")
FIELD_TEXT_MAX_LENGTH = 500
FIELD_NUMBER_PLACES = 4
FIELD_NUMBER_MAX = Decimal("9999999999999999.9999")


def _one_line(name: str) -> str:
    """Collapse the runs of spaces and line breaks pasted into a name."""
    return " ".join(name.split())


def _with_scheme(url: str) -> str:
    """Add https:// to a website given without a scheme; the scheme counts too."""
    if url.startswith(("http://", "https://")):
        return url
    url = f"https://{url}"
    if WEBSITE.max_length is not None and len(url) > WEBSITE.max_length:
        raise ValueError(WEBSITE.too_long())
    return url


NAME = FieldSpec("name", "Name", Kind.TEXT, required=True, max_length=200, refine=_one_line)
STATUS = FieldSpec(
    "status",
    "Status",
    Kind.CHOICE,
    required=True,
    default=AccountStatus.NONE.value,
    choices=tuple((value, str(label)) for value, label in AccountStatus.choices),
)
INDUSTRY = FieldSpec("industry", "Industry", Kind.TEXT, max_length=100)
EMPLOYEE_COUNT = FieldSpec("employee_count", "Employees", Kind.INT, min=0, max=MAX_EMPLOYEES)
COMPANY_SIZE = FieldSpec(
    "company_size",
    "Company size",
    Kind.CHOICE,
    help="Employee range; follows the employee count when that is known.",
    default="",
    choices=tuple((value, str(label)) for value, label in CompanySize.choices),
)
ARR = FieldSpec("arr", "ARR", Kind.DECIMAL, help="Annual revenue.", min=0, max=MAX_ARR, places=2)
CLOSE_DATE = FieldSpec("close_date", "Close date", Kind.DATE, help="When the deal was won.")
RENEWAL_DATE = FieldSpec("renewal_date", "Renewal date", Kind.DATE)
WEBSITE = FieldSpec("website", "Website", Kind.TEXT, max_length=200, refine=_with_scheme)
TIER = FieldSpec(
    "tier",
    "SLA tier",
    Kind.TEXT,
    help="Picks the SLA policy for this account's requests.",
    max_length=50,
)
NOTES = FieldSpec("notes", "Notes", Kind.TEXT, max_length=20_000)
# A domain as typed (before `domains.domain_normalize`); each secondary domain too.
PRIMARY_DOMAIN = FieldSpec(
    "primary_domain",
    "Primary domain",
    Kind.TEXT,
    help="The company's own domain; it belongs to this account only.",
    max_length=300,
)
SECONDARY_DOMAIN = FieldSpec("secondary_domains", "Secondary domains", Kind.TEXT, max_length=300)
MAX_SECONDARY_DOMAINS = 100
CONTACT_EMAIL = FieldSpec("email", "Email", Kind.TEXT, required=True, max_length=254)
CONTACT_NAME = FieldSpec("name", "Name", Kind.TEXT, max_length=200)
FIELD_KEY = FieldSpec(
    "key",
    "Key",
    Kind.TEXT,
    required=True,
    help="Letters, digits and underscores, such as renewal_tier.",
    max_length=64,
)
FIELD_LABEL = FieldSpec("label", "Label", Kind.TEXT, required=True, max_length=100)
MAX_FIELD_CHOICES = 200
CRM_EXTERNAL_ID = FieldSpec("crm_external_id", "CRM company id", Kind.TEXT, max_length=100)
CRM_COMPANY_NAME = FieldSpec("crm_company_name", "Company in CRM", Kind.TEXT, max_length=200)

# The lifecycle metadata every member may change, in the order the account page shows it.
METADATA_SPECS = (
    STATUS,
    INDUSTRY,
    EMPLOYEE_COUNT,
    COMPANY_SIZE,
    ARR,
    CLOSE_DATE,
    RENEWAL_DATE,
    WEBSITE,
    TIER,
    NOTES,
)
METADATA = specs_by_name(METADATA_SPECS)
ACCOUNT_SPECS = (NAME, *METADATA_SPECS)


def account_metadata_clean(values: Mapping[str, Any]) -> dict[str, Any]:
    """Return the declared metadata among *values* cleaned; pass the others through.

    Raise InvalidInput naming the first field that refuses its value. The owner is not
    declared here: it is a workspace member, which the service checks.
    """
    cleaned = {
        name: METADATA[name].validate(value) if name in METADATA else value
        for name, value in values.items()
    }
    if "company_size" in cleaned and cleaned["company_size"] is None:
        cleaned["company_size"] = ""
    if cleaned.get("employee_count") is not None:
        cleaned["company_size"] = CompanySize.for_employees(cleaned["employee_count"]).value
    return cleaned


# --- extra fields -----------------------------------------------------------------------

FIELD_KINDS = {
    FieldType.TEXT: Kind.TEXT,
    FieldType.NUMBER: Kind.DECIMAL,
    FieldType.DATE: Kind.DATE,
    FieldType.CHOICE: Kind.CHOICE,
}


def field_spec(definition: FieldDefinition) -> FieldSpec:
    """Return the declaration of an extra account field, from its definition."""
    kind = FIELD_KINDS[FieldType(definition.type)]
    label = definition.label
    options: dict[str, Any] = {"max_length": FIELD_TEXT_MAX_LENGTH}
    if kind == Kind.DECIMAL:
        # The column's range is no bound a person sets: "Seats must be a number." says
        # more than its twenty digits would.
        options = {"places": FIELD_NUMBER_PLACES, "refine": _fits_number_column(label)}
    elif kind == Kind.DATE:
        options = {}
    elif kind == Kind.CHOICE:
        options["choices"] = tuple((choice, choice) for choice in definition.choices)
    return FieldSpec(definition.key, label, kind, **options)


def _fits_number_column(label: str) -> Any:
    def fits(number: Decimal) -> Decimal:
        if abs(number) > FIELD_NUMBER_MAX:
            raise ValueError(f"{label} is out of range.")
        return number

    return fits
