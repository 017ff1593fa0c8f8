import pytest

from rapport.accounts.models import Account
from rapport.accounts.tests.factories import make_account


@pytest.fixture
def account(db: None) -> Account:
    return make_account("Acme", domain="acme.com", secondary_domains=["acme.io"])
