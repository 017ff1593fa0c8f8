"""Point Django at the benchmark's own database and keep it seeded between runs.

SQLite (the default): a file under bench/.data/var/, with the same settings (WAL,
pragmas) as an install, reached through RAPPORT_VAR_DIR. PostgreSQL (DATABASE_URL points at a
server): the same server, but a database of its own, `rapport_bench`, so the development
and test databases are never touched. The seed version and size live in a small table
of that database; a mismatch drops the database and seeds it again.
"""

import os
import shutil
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

DATA_DIR = Path(__file__).resolve().parent / ".data"
VAR_DIR = DATA_DIR / "var"
POSTGRES_NAME = "rapport_bench"
MARKER_TABLE = "bench_seed"


def progress(message: str) -> None:
    """Tell the person running the benchmark what is happening (stdout carries results)."""
    print(message, file=sys.stderr, flush=True)


def bench_environment_configure() -> None:
    """Set the environment Django reads its settings from; call before django.setup()."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "rapport.settings"
    os.environ.setdefault("RAPPORT_ENV", "development")
    # DEBUG keeps every query in memory and adds work to each one; measure without it.
    os.environ["DEBUG"] = "0"
    # The test client sends Host: testserver.
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    # Uploads, static files and the SQLite database of the benchmark stay in bench/.data/.
    os.environ["RAPPORT_VAR_DIR"] = str(VAR_DIR)
    _var_dir_create()
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        os.environ["DATABASE_URL"] = urlunsplit(urlsplit(url)._replace(path=f"/{POSTGRES_NAME}"))
    else:
        os.environ.pop("DATABASE_URL", None)


def _var_dir_create() -> None:
    (VAR_DIR / "static").mkdir(parents=True, exist_ok=True)


def bench_database_describe() -> str:
    from django.db import connection

    if connection.vendor == "sqlite":
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version} at {connection.settings_dict['NAME']}"
    return f"{connection.vendor} database {connection.settings_dict['NAME']}"


def _marker_read() -> str | None:
    from django.db import connection

    with connection.cursor() as cursor:
        if MARKER_TABLE not in connection.introspection.table_names(cursor):
            return None
        cursor.execute(f"SELECT value FROM {MARKER_TABLE} WHERE name = 'seed'")
        row = cursor.fetchone()
    return row[0] if row else None


def _holds_accounts() -> bool:
    from django.db import connection

    with connection.cursor() as cursor:
        if "accounts_account" not in connection.introspection.table_names(cursor):
            return False
        cursor.execute("SELECT 1 FROM accounts_account LIMIT 1")
        return cursor.fetchone() is not None


def bench_marker_write(value: str) -> None:
    """Record which seed the database holds; call inside the seeding transaction."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {MARKER_TABLE} "
            "(name varchar(32) PRIMARY KEY, value varchar(200) NOT NULL)"
        )
        cursor.execute(f"DELETE FROM {MARKER_TABLE}")
        cursor.execute(f"INSERT INTO {MARKER_TABLE} (name, value) VALUES ('seed', %s)", [value])


def _postgres_recreate(*, drop: bool) -> None:
    from django.db import connection

    connection.close()
    with connection._nodb_cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [POSTGRES_NAME])
        exists = cursor.fetchone() is not None
        if exists and drop:
            cursor.execute(f'DROP DATABASE "{POSTGRES_NAME}"')
            exists = False
        if not exists:
            cursor.execute(f'CREATE DATABASE "{POSTGRES_NAME}"')


def bench_database_prepare(marker: str) -> bool:
    """Migrate the benchmark database; return True when it already holds seed *marker*.

    A database seeded with another version or size is dropped first. Seeding runs in one
    transaction, so an interrupted seed leaves an empty database without a marker.
    """
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor == "postgresql":
        _postgres_recreate(drop=False)
    found = _marker_read()
    if found is None and _holds_accounts():
        found = "an unfinished or foreign seed"  # e.g. another benchmark's rows alone
    if found is not None and found != marker:
        progress(f"bench: the database holds seed {found!r}, not {marker!r}; starting afresh")
        if connection.vendor == "postgresql":
            _postgres_recreate(drop=True)
        else:
            connection.close()
            shutil.rmtree(VAR_DIR)
            _var_dir_create()
        found = None
    call_command("migrate", verbosity=0, interactive=False)
    return found == marker
