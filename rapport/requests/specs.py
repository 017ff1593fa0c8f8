"""The request settings, each declared once.

The settings page, the `/api/v1/request-settings` schemas, the `/rapport` modals and
`request_settings_update` all derive from these declarations.
"""

from rapport.core.specs import FieldSpec, Kind, specs_by_name
from rapport.detection.modes import DetectionMode

# Bounds of the durations: the columns hold much more, people never need it.
MAX_DURATION = 10_000_000


def _on_off(name: str, label: str, default: bool, help: str = "") -> FieldSpec:
    return FieldSpec(name, label, Kind.BOOL, help=help, required=True, default=default)


def _duration(name: str, label: str, default: int, help: str) -> FieldSpec:
    return FieldSpec(
        name, label, Kind.INT, help=help, required=True, default=default, min=0, max=MAX_DURATION
    )


DETECTION_ENABLED = _on_off("detection_enabled", "Detect requests", True)
DETECTION_MODE = FieldSpec(
    "detection_mode",
    "Detection mode",
    Kind.CHOICE,
    required=True,
    default=DetectionMode.AGGRESSIVE.value,
    choices=tuple((value, str(label)) for value, label in DetectionMode.choices),
)
GROUPING_WINDOW = _duration(
    "grouping_window_seconds",
    "Grouping window (seconds)",
    120,
    "Follow-up customer messages this close join the request; 0 turns grouping off.",
)
ASSIGN_FIRST_RESPONDER = _on_off("assign_first_responder", "Assign to the first responder", True)
ASSIGN_CSM = _on_off("assign_csm", "Assign to the channel's CSM", True)
DM_ASSIGNEE = _on_off("dm_assignee", "Send the assignee a DM", True)
EMOJI_ENABLED = _on_off("emoji_enabled", "Mark request messages with emoji", True)
EMOJI_ASSIGNED = FieldSpec(
    "emoji_assigned",
    "Emoji when assigned",
    Kind.WORD,
    required=True,
    default="eyes",
    max_length=64,
)
EMOJI_CLOSED = FieldSpec(
    "emoji_closed",
    "Emoji when closed",
    Kind.WORD,
    required=True,
    default="white_check_mark",
    max_length=64,
)
STATUS_UPDATES = _on_off("status_updates", "Post status updates in the thread", False)
AUTO_CLOSE_DAYS = _duration(
    "auto_close_days",
    "Auto-close after (days)",
    30,
    "Close requests with no activity for this many days; 0 turns it off.",
)
NUDGE_AFTER_HOURS = _duration(
    "nudge_after_hours",
    "Nudge the assignee after (hours)",
    24,
    "DM the assignee of a request open this long; 0 turns it off.",
)
CSAT_ENABLED = _on_off("csat_enabled", "Ask for a satisfaction rating on close", True)
TRIAGE_CHANNEL = FieldSpec(
    "triage_channel_id",
    "Triage channel",
    Kind.CHANNEL,
    help="The Slack channel (its id) where new requests are posted.",
    default="",
    max_length=32,
)
TICKET_ADDRESS = FieldSpec(
    "ticket_address",
    "Ticketing tool address",
    Kind.EMAIL,
    help="The email-based ticketing tool's address; empty hides “Create ticket”.",
    default="",
    max_length=254,
)

# The settings a channel may override, in the order every face shows them.
CHANNEL_SPECS = (
    DETECTION_ENABLED,
    DETECTION_MODE,
    GROUPING_WINDOW,
    ASSIGN_FIRST_RESPONDER,
    ASSIGN_CSM,
    DM_ASSIGNEE,
    EMOJI_ENABLED,
    STATUS_UPDATES,
    AUTO_CLOSE_DAYS,
    NUDGE_AFTER_HOURS,
    CSAT_ENABLED,
    TRIAGE_CHANNEL,
)
# Every workspace setting: the emoji and the ticketing address are workspace-wide.
WORKSPACE_SPECS = (
    DETECTION_ENABLED,
    DETECTION_MODE,
    GROUPING_WINDOW,
    ASSIGN_FIRST_RESPONDER,
    ASSIGN_CSM,
    DM_ASSIGNEE,
    EMOJI_ENABLED,
    EMOJI_ASSIGNED,
    EMOJI_CLOSED,
    STATUS_UPDATES,
    AUTO_CLOSE_DAYS,
    NUDGE_AFTER_HOURS,
    CSAT_ENABLED,
    TRIAGE_CHANNEL,
    TICKET_ADDRESS,
)
WORKSPACE = specs_by_name(WORKSPACE_SPECS)
CHANNEL = specs_by_name(CHANNEL_SPECS)
CHANNEL_FIELDS = tuple(CHANNEL)
