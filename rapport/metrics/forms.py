"""Forms of the SLA settings page: they turn posted text into values for the services."""

from typing import Any

from django import forms

from rapport.core.spec_forms import form_field
from rapport.metrics.models import SlaPolicy
from rapport.metrics.specs import POLICY_SPECS

WEEKDAYS = [
    (0, "Mon"),
    (1, "Tue"),
    (2, "Wed"),
    (3, "Thu"),
    (4, "Fri"),
    (5, "Sat"),
    (6, "Sun"),
]


class SlaPolicyForm(forms.Form):
    """One SLA policy: its fields derive from `rapport.metrics.specs`."""

    weekdays = forms.TypedMultipleChoiceField(
        choices=WEEKDAYS,
        coerce=int,
        required=False,
        initial=[0, 1, 2, 3, 4],
        widget=forms.CheckboxSelectMultiple,
        label="Working days",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for spec in POLICY_SPECS:
            self.fields[spec.name] = form_field(spec)

    @classmethod
    def for_policy(cls, policy: SlaPolicy) -> "SlaPolicyForm":
        return cls(
            prefix=f"p{policy.pk}",
            initial={
                "name": policy.name,
                "tier": policy.tier,
                "first_response_minutes": policy.first_response_minutes,
                "resolution_minutes": policy.resolution_minutes,
                "always_on": policy.always_on,
                "timezone": policy.timezone,
                "weekdays": policy.weekdays,
                "day_start": policy.day_start,
                "day_end": policy.day_end,
            },
        )

    def values(self) -> dict[str, Any]:
        return dict(self.cleaned_data)
