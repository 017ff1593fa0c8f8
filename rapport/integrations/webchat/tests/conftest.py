"""Fixtures for the web chat tests: a fresh rate-limit cache and a site to chat on."""

from collections.abc import Iterator

import pytest
from django.core.cache import cache

from rapport.integrations.webchat.models import ChatSite
from rapport.integrations.webchat.tests.factories import ORIGIN, make_site


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> Iterator[None]:
    """Start every test with empty rate-limit windows (the cache outlives a test)."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def site(db: None) -> ChatSite:
    return make_site("Acme Shop", origins=[ORIGIN])
