"""Fixtures shared by the mapping tests."""

import pytest

from rapport.mapping.services import mapping_settings_update
from rapport.users.models import User


@pytest.fixture
def auto_create(admin_user: User) -> None:
    """Let the workspace create accounts for new domains."""
    mapping_settings_update(actor=admin_user, auto_create_accounts=True)
