"""Writes of the directory: the columns each member picked."""

from rapport.core.errors import InvalidInput
from rapport.directory.columns import directory_columns_available
from rapport.directory.models import DirectoryPreference
from rapport.users.models import User


def directory_columns_save(*, user: User, columns: list[str]) -> list[str]:
    """Remember the directory columns *user* picked, in order."""
    available = {c.key for c in directory_columns_available()}
    unknown = [c for c in columns if c not in available]
    if unknown:
        raise InvalidInput(f"Unknown columns: {', '.join(unknown)}.", field="columns")
    cleaned = list(dict.fromkeys(columns))
    DirectoryPreference.objects.update_or_create(user=user, defaults={"columns": cleaned})
    return cleaned
