"""The fixed parts of the demo workspace: its people, teams, fields and vocabularies."""

from dataclasses import dataclass

from rapport.accounts.models import FieldSource, FieldType
from rapport.users.models import Role

DEMO_PASSWORD = "rapport-demo"  # noqa: S105 - the documented demo login, never a real secret
DEMO_SEED = 20240611
DEMO_ACCOUNT_COUNT = 324
SLACK_TEAM_ID = "T0RAPDEMO1"


@dataclass(frozen=True)
class DemoMember:
    email: str
    name: str
    role: str = Role.MEMBER
    can_log_in: bool = False


# The first two are the documented demo logins; the others own accounts and fill teams
# but have no password, so the demo exposes exactly two known credentials.
MEMBERS = (
    DemoMember("admin@example.com", "Maya Okafor", Role.ADMIN, can_log_in=True),
    DemoMember("member@example.com", "Sam Whitaker", Role.MEMBER, can_log_in=True),
    DemoMember("priya.natarajan@example.com", "Priya Natarajan"),
    DemoMember("diego.alvarez@example.com", "Diego Alvarez"),
    DemoMember("hannah.schultz@example.com", "Hannah Schultz"),
    DemoMember("kenji.watanabe@example.com", "Kenji Watanabe"),
    DemoMember("olivia.brennan@example.com", "Olivia Brennan"),
    DemoMember("marcus.reid@example.com", "Marcus Reid"),
)
TEAMS = {
    "Enterprise Success": (
        "admin@example.com",
        "priya.natarajan@example.com",
        "kenji.watanabe@example.com",
    ),
    "Growth Success": (
        "member@example.com",
        "diego.alvarez@example.com",
        "olivia.brennan@example.com",
    ),
    "Support": (
        "member@example.com",
        "hannah.schultz@example.com",
        "marcus.reid@example.com",
    ),
}
# Who owns accounts of each tier: the enterprise pod the large ones, the growth pod the rest.
OWNERS_BY_TIER = {
    "Enterprise": TEAMS["Enterprise Success"],
    "Mid-Market": (*TEAMS["Growth Success"], "priya.natarajan@example.com"),
    "SMB": (*TEAMS["Growth Success"], "hannah.schultz@example.com"),
}


@dataclass(frozen=True)
class DemoField:
    key: str
    label: str
    source: str
    type: str
    choices: tuple[str, ...] = ()
    crm_property: str = ""


TIERS = ("Enterprise", "Mid-Market", "SMB")
LIFECYCLE_STAGES = ("Opportunity", "Customer", "Renewal", "Evangelist", "Former customer")
REGIONS = ("North America", "EMEA", "APAC", "LATAM")
SEGMENTS = ("Strategic", "Scale", "Tech touch")

FIELDS = (
    DemoField("tier", "Tier", FieldSource.CRM, FieldType.CHOICE, TIERS, "account_tier"),
    DemoField(
        "lifecycle_stage",
        "Lifecycle stage",
        FieldSource.CRM,
        FieldType.CHOICE,
        LIFECYCLE_STAGES,
        "lifecyclestage",
    ),
    DemoField("region", "Region", FieldSource.CRM, FieldType.CHOICE, REGIONS, "sales_region"),
    DemoField("crm_owner", "CRM owner", FieldSource.CRM, FieldType.TEXT, (), "owner_name"),
    DemoField("renewal_date", "Renewal date", FieldSource.CRM, FieldType.DATE, (), "renewal_date"),
    DemoField("crm_arr", "CRM ARR", FieldSource.CRM, FieldType.NUMBER, (), "annual_revenue"),
    DemoField("segment", "Segment", FieldSource.RAPPORT, FieldType.CHOICE, SEGMENTS),
    DemoField("success_plan", "Success plan", FieldSource.RAPPORT, FieldType.TEXT),
    DemoField("kickoff_date", "Kickoff date", FieldSource.RAPPORT, FieldType.DATE),
    DemoField("seats", "Seats", FieldSource.RAPPORT, FieldType.NUMBER),
)
SEGMENT_BY_TIER = {"Enterprise": "Strategic", "Mid-Market": "Scale", "SMB": "Tech touch"}

# Industry -> words that companies of that industry put after their name.
INDUSTRIES = {
    "Software": ("Software", "Labs", "Cloud", "Systems"),
    "Financial services": ("Capital", "Financial", "Payments"),
    "Healthcare": ("Health", "Medical", "Care"),
    "Logistics": ("Logistics", "Freight", "Shipping"),
    "Manufacturing": ("Manufacturing", "Industries", "Works"),
    "Retail": ("Retail", "Outfitters", "Goods"),
    "Education": ("Learning", "Academy", "Education"),
    "Media": ("Media", "Studios", "Publishing"),
    "Energy": ("Energy", "Power", "Solar"),
    "Biotech": ("Bio", "Therapeutics", "Genomics"),
    "Hospitality": ("Hospitality", "Hotels", "Travel"),
    "Telecommunications": ("Networks", "Telecom", "Connect"),
    "Real estate": ("Properties", "Realty", "Estates"),
    "Marketing": ("Marketing", "Digital", "Creative"),
}
LEGAL_SUFFIXES = {"inc", "llc", "ltd", "plc", "group", "and", "co", "corp", "sons"}
TOP_LEVEL_DOMAINS = (("com", 70), ("io", 12), ("co", 8), ("ai", 5), ("net", 5))

CONTACT_TITLES = (
    "VP Customer Success",
    "Head of Operations",
    "IT Director",
    "Product Manager",
    "CTO",
    "Procurement Lead",
    "Engineering Manager",
    "Director of Support",
    "Chief of Staff",
    "Revenue Operations Manager",
    "Solutions Architect",
    "Head of Data",
    "Finance Manager",
    "Customer Support Lead",
    "COO",
)
SUCCESS_PLANS = (
    "Roll out to the EMEA support team by the end of the quarter.",
    "Quarterly business reviews with the VP; expand to a second business unit.",
    "Cut first response time below one hour; weekly check-ins until launch.",
    "Migrate the remaining teams from email to the shared Slack channel.",
    "Renewal risk: rebuild the executive sponsor relationship before renewal.",
    "Adopt the request queue and SLA targets for the tier-1 support desk.",
    "Train the new admins; review usage monthly.",
    "Expand seats for the APAC offices after the pilot.",
)
CRM_SYNC_ERRORS = (
    "CRM API answered 404 Not Found: the company record was deleted or merged.",
    "CRM API answered 401 Unauthorized: the connection's access token expired. "
    "Reconnect the CRM integration.",
    "CRM API answered 429 Too Many Requests: rate limit reached; the next sync retries.",
    'Property "annual_revenue" holds "N/A", which is not a number.',
    "The CRM API did not answer within 30 seconds.",
)
ACCOUNT_NOTES = (
    "Champion moved to a new role in March; confirm the new sponsor.",
    "Prefers email over Slack for anything involving legal.",
    "Uses the API heavily for their internal dashboards.",
    "Asked about SSO at the last check-in.",
    "Pilot with two teams; decision on a wider roll-out next quarter.",
)
