"""Rapport's SQLite engine keeps its connections, and notices when the file is not the same.

A kept connection goes on using the file it opened even after that file was moved or
replaced; the health check Django runs before a request's first query must then
reconnect (to the file now at the path), or fail as an outage when there is none.
"""

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import OperationalError

from rapport import settings as rapport_settings
from rapport.core.sqlite.base import DatabaseWrapper


def _database(path: Path, value: str) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE said (value text)")
        conn.execute("INSERT INTO said VALUES (?)", [value])
    conn.close()


@pytest.fixture
def wrapper(tmp_path: Path, django_db_blocker: Any) -> Iterator[DatabaseWrapper]:
    """A connection to a SQLite file of its own, with the embedded settings."""
    folder = tmp_path / "var"
    folder.mkdir()
    _database(folder / "rapport.sqlite3", "first")
    wrapper = DatabaseWrapper(
        {
            "ENGINE": "rapport.core.sqlite",
            "NAME": str(folder / "rapport.sqlite3"),
            "OPTIONS": dict(rapport_settings.SQLITE_OPTIONS),
            "CONN_MAX_AGE": 600,
            "CONN_HEALTH_CHECKS": True,
            "AUTOCOMMIT": True,
            "ATOMIC_REQUESTS": False,
            "TIME_ZONE": None,
            "TEST": {},
        }
    )
    with django_db_blocker.unblock():
        yield wrapper
        wrapper.close()


def _said(wrapper: DatabaseWrapper) -> str:
    # What a request does: Django's request_started signal, then the view's query.
    wrapper.close_if_unusable_or_obsolete()
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT value FROM said")
        return str(cursor.fetchone()[0])


def test_a_kept_connection_serves_the_next_request_without_reconnecting(
    wrapper: DatabaseWrapper,
) -> None:
    assert _said(wrapper) == "first"
    opened = wrapper.connection
    assert _said(wrapper) == "first"
    assert wrapper.connection is opened


def test_a_replaced_database_file_is_read_from_the_next_request_on(
    wrapper: DatabaseWrapper, tmp_path: Path
) -> None:
    """An operator restores a backup over the file: no process goes on with the old one."""
    assert _said(wrapper) == "first"
    _database(tmp_path / "restored.sqlite3", "restored")
    (tmp_path / "restored.sqlite3").replace(tmp_path / "var" / "rapport.sqlite3")
    assert _said(wrapper) == "restored"


def test_a_database_moved_away_is_an_outage_not_the_old_file(
    wrapper: DatabaseWrapper, tmp_path: Path
) -> None:
    assert _said(wrapper) == "first"
    (tmp_path / "var").rename(tmp_path / "away")
    with pytest.raises(OperationalError):
        _said(wrapper)
    (tmp_path / "away").rename(tmp_path / "var")
    assert _said(wrapper) == "first"
