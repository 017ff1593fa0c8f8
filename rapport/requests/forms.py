"""Forms of the request pages, and the request actions shared by the pages and the API.

Forms only turn posted text into Python values; the services decide what is valid and
who may do it, so the web UI and the API cannot disagree.
"""

from typing import Any

from django import forms

from rapport.core.errors import InvalidInput
from rapport.core.query_params import params_whole
from rapport.core.spec_forms import form_field, form_initial
from rapport.requests import selectors, services
from rapport.requests.models import ChannelRequestSettings, Request, RequestSettings
from rapport.requests.specs import CHANNEL_SPECS, WORKSPACE_SPECS
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


def request_action_with_message(
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
    number = params_whole(raw)
    if number is None:
        raise InvalidInput("Pick a member to assign the request to.", field="assignee")
    return number


# --- settings ----------------------------------------------------------------------------


class RequestSettingsForm(forms.Form):
    """The workspace's request settings, derived from their declarations (admins save)."""

    def __init__(
        self, *args: Any, settings: RequestSettings, read_only: bool = False, **kwargs: Any
    ) -> None:
        kwargs["initial"] = {spec.name: getattr(settings, spec.name) for spec in WORKSPACE_SPECS}
        super().__init__(*args, **kwargs)
        for spec in WORKSPACE_SPECS:
            self.fields[spec.name] = form_field(spec, disabled=read_only)

    def values(self) -> dict[str, Any]:
        return {spec.name: self.cleaned_data[spec.name] for spec in WORKSPACE_SPECS}


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
        kwargs["initial"] = {
            spec.name: form_initial(
                spec, getattr(overrides, spec.name) if overrides else None, override=True
            )
            for spec in CHANNEL_SPECS
        }
        super().__init__(*args, **kwargs)
        for spec in CHANNEL_SPECS:
            self.fields[spec.name] = form_field(
                spec, inherited=getattr(workspace, spec.name), override=True, disabled=read_only
            )

    def values(self) -> dict[str, Any]:
        """Return the overrides for the service: None inherits."""
        return {spec.name: self.cleaned_data.get(spec.name) for spec in CHANNEL_SPECS}


class CsatForm(forms.Form):
    """A customer's rating of a closed request."""

    score = forms.TypedChoiceField(choices=[(n, str(n)) for n in range(1, 6)], coerce=int)
    comment = forms.CharField(required=False, max_length=2000, widget=forms.Textarea)
