"""Forms of the request pages, and the request actions shared by the pages and the API.

Forms only turn posted text into Python values; the services decide what is valid and
who may do it, so the web UI and the API cannot disagree.
"""

from typing import Any

from django import forms

from rapport.core.errors import InvalidInput
from rapport.detection.modes import DetectionMode
from rapport.requests import selectors, services
from rapport.requests.config import CHANNEL_FIELDS
from rapport.requests.models import ChannelRequestSettings, Request, RequestSettings
from rapport.users.models import User

# --- actions -----------------------------------------------------------------------------

# Every action a member can take on a request, with what the page says once it is done.
ACTIONS: dict[str, str] = {
    "take": "You are looking into this request.",
    "assign": "Assigned the request.",
    "hold": "Put the request on hold.",
    "wait": "The request is waiting on the customer.",
    "close": "Closed the request.",
    "reopen": "Reopened the request.",
    "ticket": "Created a ticket.",
}


def request_action_apply(
    *, request: Request, action: str, actor: User, assignee_id: int | None = None, via: str
) -> tuple[Request, str]:
    """Run the named *action* on *request* (see the service); return it and a message."""
    assignee = selectors.member_active_get(assignee_id) if action == "assign" else None
    request = services.request_action_apply(
        request=request, action=action, actor=actor, assignee=assignee, via=via
    )
    message = ACTIONS[action]
    if action == "assign":
        message = (
            f"Assigned the request to {request.assignee.display_name}."
            if request.assignee
            else "The request is unassigned."
        )
    return request, message


def assignee_id_parse(raw: str | None) -> int | None:
    """Turn the assign form's choice (a member id, or blank for nobody) into an id."""
    raw = (raw or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise InvalidInput("Pick a member to assign the request to.", field="assignee")
    return int(raw)


# --- settings ----------------------------------------------------------------------------

WORKSPACE_FIELDS = (
    "detection_enabled",
    "detection_mode",
    "grouping_window_seconds",
    "assign_first_responder",
    "assign_csm",
    "dm_assignee",
    "emoji_enabled",
    "emoji_assigned",
    "emoji_closed",
    "status_updates",
    "auto_close_days",
    "nudge_after_hours",
    "csat_enabled",
    "triage_channel_id",
    "ticket_address",
)
LABELS = {
    "detection_enabled": "Detect requests",
    "detection_mode": "Detection mode",
    "grouping_window_seconds": "Grouping window (seconds)",
    "assign_first_responder": "Assign to the first responder",
    "assign_csm": "Assign to the channel's CSM",
    "dm_assignee": "Send the assignee a DM",
    "emoji_enabled": "Mark request messages with emoji",
    "emoji_assigned": "Emoji when assigned",
    "emoji_closed": "Emoji when closed",
    "status_updates": "Post status updates in the thread",
    "auto_close_days": "Auto-close after (days)",
    "nudge_after_hours": "Nudge the assignee after (hours)",
    "csat_enabled": "Ask for a satisfaction rating on close",
    "triage_channel_id": "Notification channel (Slack id)",
    "ticket_address": "Ticketing tool address",
}
BOOLEAN_FIELDS = {
    "detection_enabled",
    "assign_first_responder",
    "assign_csm",
    "dm_assignee",
    "emoji_enabled",
    "status_updates",
    "csat_enabled",
}
NUMBER_FIELDS = {"grouping_window_seconds", "auto_close_days", "nudge_after_hours"}


class RequestSettingsForm(forms.ModelForm[RequestSettings]):
    """The workspace's request settings; the service saves them (admins only)."""

    class Meta:
        model = RequestSettings
        fields = WORKSPACE_FIELDS
        labels = LABELS

    def __init__(self, *args: Any, read_only: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, form_field in self.fields.items():
            if name in NUMBER_FIELDS:
                form_field.widget.attrs.update(min=0)
            if read_only:
                form_field.disabled = True

    def values(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in WORKSPACE_FIELDS}


INHERIT = ""
ON, OFF = "on", "off"


class ChannelOverridesForm(forms.Form):
    """One channel's overrides: each setting inherits (blank) or takes its own value."""

    def __init__(
        self,
        *args: Any,
        workspace: RequestSettings,
        read_only: bool = False,
        overrides: ChannelRequestSettings | None = None,
        **kwargs: Any,
    ) -> None:
        initial: dict[str, Any] = {}
        for name in CHANNEL_FIELDS:
            value = getattr(overrides, name) if overrides is not None else None
            if name in BOOLEAN_FIELDS and value is not None:
                value = ON if value else OFF
            initial[name] = "" if value is None else value
        kwargs["initial"] = initial
        super().__init__(*args, **kwargs)
        for name in CHANNEL_FIELDS:
            inherited = getattr(workspace, name)
            label = LABELS[name]
            form_field: forms.Field
            if name in BOOLEAN_FIELDS:
                shown = "on" if inherited else "off"
                form_field = forms.ChoiceField(
                    label=label,
                    required=False,
                    choices=[(INHERIT, f"Inherit ({shown})"), (ON, "On"), (OFF, "Off")],
                )
            elif name in NUMBER_FIELDS:
                form_field = forms.IntegerField(
                    label=label,
                    required=False,
                    min_value=0,
                    help_text=f"Blank inherits the workspace's {inherited}.",
                )
            elif name == "detection_mode":
                form_field = forms.ChoiceField(
                    label=label,
                    required=False,
                    choices=[(INHERIT, f"Inherit ({inherited})"), *DetectionMode.choices],
                )
            else:
                form_field = forms.CharField(
                    label=label,
                    required=False,
                    max_length=32,
                    help_text=f"Blank inherits the workspace's {inherited or '(none)'}.",
                )
            form_field.disabled = read_only
            self.fields[name] = form_field

    def values(self) -> dict[str, Any]:
        """Return the overrides for the service: None inherits."""
        values: dict[str, Any] = {}
        for name in CHANNEL_FIELDS:
            value = self.cleaned_data.get(name)
            if value in (None, INHERIT):
                values[name] = None
            elif name in BOOLEAN_FIELDS:
                values[name] = value == ON
            else:
                values[name] = value
        return values


class CsatForm(forms.Form):
    """A customer's rating of a closed request."""

    score = forms.TypedChoiceField(choices=[(n, str(n)) for n in range(1, 6)], coerce=int)
    comment = forms.CharField(required=False, max_length=2000, widget=forms.Textarea)
