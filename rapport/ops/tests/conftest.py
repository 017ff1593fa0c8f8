"""Fixtures for the background machinery."""

import signal
from collections.abc import Iterator

import pytest


@pytest.fixture
def restore_signals() -> Iterator[None]:
    """Put back the signal handlers that the scheduler and the worker install."""
    names = ("SIGINT", "SIGTERM", "SIGQUIT")
    saved = {
        name: signal.getsignal(getattr(signal, name)) for name in names if hasattr(signal, name)
    }
    yield
    for name, handler in saved.items():
        signal.signal(getattr(signal, name), handler)
