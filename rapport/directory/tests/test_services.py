"""The directory's writes: the columns each member picked."""

import pytest

from rapport.accounts.tests.factories import make_field
from rapport.core.errors import InvalidInput
from rapport.directory.models import DirectoryPreference
from rapport.directory.services import directory_columns_save
from rapport.users.models import User

pytestmark = pytest.mark.django_db


def test_directory_columns_are_remembered_in_order_without_repeats(member_user: User) -> None:
    make_field("seats", type="number")
    saved = directory_columns_save(user=member_user, columns=["name", "field.seats", "arr", "name"])
    assert saved == ["name", "field.seats", "arr"]
    assert DirectoryPreference.objects.get(user=member_user).columns == saved


def test_unknown_directory_columns_are_refused(member_user: User) -> None:
    with pytest.raises(InvalidInput, match="Unknown columns: favourite_colour"):
        directory_columns_save(user=member_user, columns=["name", "favourite_colour"])
    assert not DirectoryPreference.objects.exists()
