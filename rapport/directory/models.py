"""The directory's own rows: the columns each member picked."""

from django.conf import settings
from django.db import models


class DirectoryPreference(models.Model):
    """The directory columns a user picked, in their order."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="directory_preference"
    )
    columns = models.JSONField(default=list)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        # The table of the accounts app, where the model was born: moving it kept the rows.
        db_table = "accounts_directorypreference"

    def __str__(self) -> str:
        return f"Directory columns of {self.user_id}"
