"""The bulk upload form: the file, how to read its dates, the default template."""

from django import forms

from rapport.onboarding.csv_rows import DateOrder
from rapport.onboarding.models import Template

DATE_ORDERS = (
    (DateOrder.ISO.value, "Only dates that cannot be misread (2025-01-15, 13/04/2025)"),
    (DateOrder.DAY_FIRST.value, "Day first (03/04/2025 is 3 April)"),
    (DateOrder.MONTH_FIRST.value, "Month first (03/04/2025 is 4 March)"),
)


class UploadForm(forms.Form):
    file = forms.FileField(label="CSV file", help_text="Exported from a spreadsheet as CSV.")
    date_order = forms.ChoiceField(
        label="Dates such as 03/04/2025",
        choices=DATE_ORDERS,
        initial=DateOrder.ISO.value,
        widget=forms.RadioSelect,
    )
    template = forms.ModelChoiceField(
        queryset=Template.objects.all(),
        required=False,
        label="Default template",
        empty_label="None: every row names its template",
        help_text="For rows whose template_name is blank.",
    )
