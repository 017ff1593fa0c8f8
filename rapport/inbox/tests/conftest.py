"""Fixtures shared by the inbox tests."""

import pytest

from rapport.accounts.models import Account
from rapport.accounts.tests.factories import make_account


@pytest.fixture
def accounts(db: None) -> dict[str, Account]:
    return {
        "acme": make_account("Acme", domain="acme.example"),
        "globex": make_account("Globex", domain="globex.example"),
    }
