"""The fields of an SLA policy, each declared once.

The SLA settings page, the `/api/v1/sla-policies` schemas and `sla_policy_create` /
`sla_policy_update` derive from these declarations. The working days and the checks
across fields (a known time zone, a day that ends after it starts) stay with the service.
"""

from rapport.core.specs import FieldSpec, Kind, specs_by_name
from rapport.metrics.sla import MAX_TARGET_MINUTES

NAME = FieldSpec("name", "Name", Kind.TEXT, required=True, max_length=100)
TIER = FieldSpec(
    "tier",
    "Tier",
    Kind.TEXT,
    help="The account tier it applies to; leave empty for the default policy.",
    default="",
    max_length=50,
)
FIRST_RESPONSE_MINUTES = FieldSpec(
    "first_response_minutes",
    "First response (business minutes)",
    Kind.INT,
    min=1,
    max=MAX_TARGET_MINUTES,
)
RESOLUTION_MINUTES = FieldSpec(
    "resolution_minutes",
    "Resolution (business minutes)",
    Kind.INT,
    min=1,
    max=MAX_TARGET_MINUTES,
)
ALWAYS_ON = FieldSpec("always_on", "24/7 (every minute counts)", Kind.BOOL, default=False)
TIMEZONE = FieldSpec(
    "timezone", "Time zone", Kind.TEXT, help="Such as Europe/Paris.", default="UTC", max_length=64
)
DAY_START = FieldSpec(
    "day_start", "Day starts", Kind.TIME, help="HH:MM, local time.", default="09:00"
)
DAY_END = FieldSpec("day_end", "Day ends", Kind.TIME, help="HH:MM, local time.", default="18:00")

POLICY_SPECS = (
    NAME,
    TIER,
    FIRST_RESPONSE_MINUTES,
    RESOLUTION_MINUTES,
    ALWAYS_ON,
    TIMEZONE,
    DAY_START,
    DAY_END,
)
POLICY = specs_by_name(POLICY_SPECS)
