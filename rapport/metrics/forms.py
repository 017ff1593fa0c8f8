"""Forms of the SLA settings page: they turn posted text into values for the services."""

from typing import Any

from django import forms

from rapport.core.spec_forms import SpecForm
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


class SlaPolicyForm(SpecForm):
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
        self.declared = POLICY_SPECS  # read per form, as the declarations are now
        super().__init__(*args, **kwargs)

    @classmethod
    def for_policy(cls, policy: SlaPolicy) -> "SlaPolicyForm":
        return cls(
            prefix=f"p{policy.pk}",
            initial={spec.name: getattr(policy, spec.name) for spec in POLICY_SPECS}
            | {"weekdays": policy.weekdays},
        )

    def values(self) -> dict[str, Any]:
        return dict(self.cleaned_data)
