"""Build onboarding data through the real services."""

from typing import Any

from rapport.onboarding.catalog import templates_ship
from rapport.onboarding.models import Plan, PlanSource, Template
from rapport.onboarding.services import onboarding_create
from rapport.users.models import User

DEAL_NOTES = (
    "Closed-won after a four-month cycle. The customer is replacing Legacy Desk. "
    "They need SSO through Okta before launch. Go-live target is 2027-03-01. "
    "About 120 users will use it. Executive sponsor is Dana Smith, VP Operations."
)


def shipped_templates() -> list[Template]:
    return templates_ship()


def make_onboarding(actor: User | None = None, **overrides: Any) -> Plan:
    """Onboard a customer with sensible values; *overrides* replace any of them."""
    if not Template.objects.exists():
        templates_ship()
    values: dict[str, Any] = {
        "company_name": "Acme Corp",
        "arr": "50000",
        "close_date": "2026-11-20",
        "primary_contact_name": "Jane Smith",
        "primary_contact_email": "jane@acme.example",
        "primary_contact_role": "IT Director",
        "template": "Standard SaaS Onboarding",
        "ae_email": "ae@rapport.example",
        "raw_payload": DEAL_NOTES,
    }
    values.update(overrides)
    source = values.pop("source", PlanSource.MANUAL)
    return onboarding_create(actor=actor, values=values, source=source)
