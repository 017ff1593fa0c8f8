"""The fields of a new onboarding (by hand, API, CSV import or CRM), each declared once.

The creation form, `POST /api/v1/onboarding/accounts` and `onboarding_create` derive
from these declarations.
"""

import dataclasses

from rapport.accounts import specs as account_specs
from rapport.core.specs import FieldSpec, Kind, specs_by_name

RAW_PAYLOAD_MAX = 100_000


def _renamed(spec: FieldSpec, name: str, **changes: object) -> FieldSpec:
    return dataclasses.replace(spec, name=name, **changes)  # type: ignore[arg-type]


COMPANY_NAME = _renamed(account_specs.NAME, "company_name", label="Company name")
ARR = _renamed(
    account_specs.ARR, "arr", required=True, help="Annual recurring revenue, in dollars."
)
CLOSE_DATE = _renamed(account_specs.CLOSE_DATE, "close_date", required=True)
PRIMARY_CONTACT_NAME = FieldSpec(
    "primary_contact_name",
    "Primary contact name",
    Kind.TEXT,
    required=True,
    max_length=200,
    help="The customer's hands-on implementation lead.",
)
PRIMARY_CONTACT_EMAIL = FieldSpec(
    "primary_contact_email", "Primary contact email", Kind.EMAIL, required=True, max_length=254
)
PRIMARY_CONTACT_ROLE = FieldSpec(
    "primary_contact_role", "Primary contact role", Kind.TEXT, max_length=200
)
INDUSTRY = account_specs.INDUSTRY
COMPANY_SIZE = account_specs.COMPANY_SIZE
WEBSITE = account_specs.WEBSITE
NOTES = account_specs.NOTES
TEMPLATE = FieldSpec(
    "template",
    "Template",
    Kind.TEXT,
    required=True,
    max_length=200,
    help="The onboarding template, by id or by name.",
)
AE_EMAIL = FieldSpec(
    "ae_email",
    "Account executive email",
    Kind.EMAIL,
    required=True,
    max_length=254,
    help="Gets the handoff link; needs no Rapport login.",
)
RAW_PAYLOAD = FieldSpec(
    "raw_payload",
    "Deal notes",
    Kind.TEXT,
    max_length=RAW_PAYLOAD_MAX,
    help="CRM notes, deal details, the sales conversation: handoff answers are drafted from them.",
)

CREATE_SPECS = (
    COMPANY_NAME,
    ARR,
    CLOSE_DATE,
    PRIMARY_CONTACT_NAME,
    PRIMARY_CONTACT_EMAIL,
    PRIMARY_CONTACT_ROLE,
    TEMPLATE,
    AE_EMAIL,
    INDUSTRY,
    COMPANY_SIZE,
    WEBSITE,
    NOTES,
    RAW_PAYLOAD,
)
CREATE = specs_by_name(CREATE_SPECS)

STATUS_NOTE = FieldSpec("note", "Note", Kind.TEXT, max_length=2000, help="Why the status changed.")
TRANSITION_NOTE = FieldSpec(
    "note",
    "Transition note",
    Kind.TEXT,
    max_length=2000,
    help="For the account's history, and for the customer when they are told.",
)
