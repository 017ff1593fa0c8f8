"""Forms of the SLA settings page: they turn posted text into values for the services."""

import datetime
from typing import Any

from django import forms

from rapport.metrics.models import SlaPolicy

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
    name = forms.CharField(max_length=100)
    tier = forms.CharField(
        max_length=50,
        required=False,
        help_text="The account tier it applies to; leave empty for the default policy.",
    )
    first_response_minutes = forms.IntegerField(
        label="First response (business minutes)", required=False, min_value=1
    )
    resolution_minutes = forms.IntegerField(
        label="Resolution (business minutes)", required=False, min_value=1
    )
    always_on = forms.BooleanField(label="24/7 (every minute counts)", required=False)
    timezone = forms.CharField(max_length=64, initial="UTC", help_text="Such as Europe/Paris.")
    weekdays = forms.TypedMultipleChoiceField(
        choices=WEEKDAYS,
        coerce=int,
        required=False,
        initial=[0, 1, 2, 3, 4],
        widget=forms.CheckboxSelectMultiple,
        label="Working days",
    )
    day_start = forms.TimeField(initial=datetime.time(9, 0), label="Day starts")
    day_end = forms.TimeField(initial=datetime.time(18, 0), label="Day ends")

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
