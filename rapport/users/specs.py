"""The fields of a member, an invitation and an API token, each declared once.

The Team and API tokens pages, the `/api/v1/members`, `/api/v1/invitations` and
`/api/v1/tokens` schemas and the services that change members derive from these.
"""

import re

from rapport.core.specs import FieldSpec, Kind, specs_by_name
from rapport.users.models import Role

# Slack user ids: U… for a workspace user, W… for an Enterprise Grid user.
SLACK_USER_ID_RE = re.compile(r"[UW][A-Z0-9]{6,31}")


def _slack_user_id(value: str) -> str:
    value = value.upper()
    if not SLACK_USER_ID_RE.fullmatch(value):
        raise ValueError(
            "A Slack user id starts with U or W followed by letters and digits, such as "
            "U012AB3CD (in Slack: the member's profile, ⋮, Copy member ID)."
        )
    return value


EMAIL = FieldSpec("email", "Email", Kind.EMAIL, required=True, max_length=254)
NAME = FieldSpec("name", "Name", Kind.TEXT, max_length=150)
ROLE = FieldSpec(
    "role",
    "Role",
    Kind.CHOICE,
    help="Admins also manage the team, fields, integrations and every setting.",
    required=True,
    default=Role.MEMBER,
    choices=tuple((value, label) for value, label in Role.choices),
)
IS_ACTIVE = FieldSpec(
    "is_active",
    "Active",
    Kind.BOOL,
    help="A deactivated member cannot log in, and their API tokens stop working.",
)
SLACK_USER_ID = FieldSpec(
    "slack_user_id",
    "Slack user id",
    Kind.TEXT,
    help="Such as U012AB3CD; links the member to Slack for DMs and buttons. Empty unlinks.",
    max_length=32,
    refine=_slack_user_id,
)

IS_CSM = FieldSpec(
    "is_csm",
    "CSM",
    Kind.BOOL,
    help="A customer success manager: accounts can be assigned to them as CSM.",
)

MEMBER_SPECS = (ROLE, IS_ACTIVE, SLACK_USER_ID, IS_CSM)
MEMBER = specs_by_name(MEMBER_SPECS)
INVITATION_SPECS = (EMAIL, NAME, ROLE)

TOKEN_NAME = FieldSpec(
    "name",
    "Name",
    Kind.TEXT,
    help="What the token is for, such as “CI” or “laptop”.",
    max_length=100,
)
TOKEN_SPECS = (TOKEN_NAME,)
