"""Settings that come from the environment, read as a fresh process reads them.

Each case starts Python with its own environment and DJANGO_SETTINGS_MODULE=rapport.settings
(the suite's own settings are already loaded in this process, so they cannot be re-read here).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
# The variables a case sets itself are dropped from the inherited environment first.
_OWN = (
    "DATABASE_URL",
    "DJANGO_SETTINGS_MODULE",
    "RAPPORT_ENV",
    "RAPPORT_VAR_DIR",
    "PORT",
    "SITE_URL",
    "ALLOWED_HOSTS",
    "SECRET_KEY",
    "DEBUG",
    "SQLITE_BUSY_TIMEOUT",
)


def _environment(tmp_path: Path, **values: str) -> dict[str, str]:
    base = {key: value for key, value in os.environ.items() if key not in _OWN}
    return base | {
        "DJANGO_SETTINGS_MODULE": "rapport.settings",
        "RAPPORT_ENV": "development",
        "RAPPORT_VAR_DIR": str(tmp_path / "var"),
        "PYTHONDONTWRITEBYTECODE": "1",
        **values,
    }


def _python(tmp_path: Path, code: str, **values: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter on our own code
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=_environment(tmp_path, **values),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _settings(tmp_path: Path, *names: str, **values: str) -> dict[str, object]:
    """The named settings as a process started with *values* in its environment sees them."""
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{n: getattr(settings, n) for n in {list(names)!r}}}, default=str))"
    )
    done = _python(tmp_path, code, **values)
    assert done.returncode == 0, done.stderr[-3000:]
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


# --- PORT and SITE_URL -------------------------------------------------------------------------


def test_site_url_follows_the_port_when_it_is_not_set(tmp_path: Path) -> None:
    seen = _settings(tmp_path, "PORT", "SITE_URL", PORT="9123")
    assert seen == {"PORT": 9123, "SITE_URL": "http://127.0.0.1:9123"}


def test_a_site_url_that_is_set_wins_over_the_port(tmp_path: Path) -> None:
    seen = _settings(
        tmp_path, "PORT", "SITE_URL", PORT="9123", SITE_URL="https://support.example.test/"
    )
    assert seen == {"PORT": 9123, "SITE_URL": "https://support.example.test"}


def test_runstack_serves_on_the_port_by_default(tmp_path: Path) -> None:
    code = (
        "import django; django.setup(); "
        "from rapport.ops.management.commands.runstack import Command; "
        "print(Command().create_parser('manage.py', 'runstack').parse_args([]).port)"
    )
    done = _python(tmp_path, code, PORT="9123")
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == "9123"


# --- SQLite through DATABASE_URL ---------------------------------------------------------------


def test_a_sqlite_database_url_gets_the_embedded_sqlite_settings(tmp_path: Path) -> None:
    path = tmp_path / "elsewhere.sqlite3"
    code = (
        "import json, django; django.setup(); "
        "from django.conf import settings; from django.db import connection; "
        "cursor = connection.cursor(); cursor.execute('PRAGMA journal_mode'); "
        "mode = cursor.fetchone()[0]; cursor.execute('PRAGMA foreign_keys'); "
        "keys = cursor.fetchone()[0]; "
        "print(json.dumps({'embedded': settings.SQLITE_OPTIONS, "
        "'options': settings.DATABASES['default']['OPTIONS'], "
        "'engine': settings.DATABASES['default']['ENGINE'], "
        "'name': str(settings.DATABASES['default']['NAME']), "
        "'journal_mode': mode, 'foreign_keys': keys}))"
    )
    done = _python(tmp_path, code, DATABASE_URL=f"sqlite:///{path}")
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    embedded = _settings(tmp_path, "DATABASES")["DATABASES"]["default"]  # type: ignore[index]
    assert seen["name"] == str(path)
    assert seen["engine"] == embedded["ENGINE"]
    assert seen["options"] == seen["embedded"] == embedded["OPTIONS"]
    options = seen["options"]
    assert options["transaction_mode"] == "IMMEDIATE"
    assert options["timeout"] == 20
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
        assert f"PRAGMA {pragma};" in options["init_command"]
    # The pragmas reach the connection: the file is in WAL mode, foreign keys are on.
    assert seen["journal_mode"] == "wal"
    assert seen["foreign_keys"] == 1


def test_the_embedded_database_and_a_sqlite_url_read_the_same_busy_timeout(
    tmp_path: Path,
) -> None:
    embedded = _settings(tmp_path, "DATABASES", SQLITE_BUSY_TIMEOUT="7")
    by_url = _settings(
        tmp_path,
        "DATABASES",
        SQLITE_BUSY_TIMEOUT="7",
        DATABASE_URL=f"sqlite:///{tmp_path / 'other.sqlite3'}",
    )
    for seen in (embedded, by_url):
        options = seen["DATABASES"]["default"]["OPTIONS"]  # type: ignore[index]
        assert options["timeout"] == 7
        assert options["transaction_mode"] == "IMMEDIATE"


# --- production and ALLOWED_HOSTS --------------------------------------------------------------

_PRODUCTION = {"RAPPORT_ENV": "production", "SECRET_KEY": "s" * 60}


@pytest.mark.parametrize("hosts", [None, ""], ids=["unset", "empty"])
def test_production_refuses_to_start_without_allowed_hosts(
    tmp_path: Path, hosts: str | None
) -> None:
    values = dict(_PRODUCTION) | ({} if hosts is None else {"ALLOWED_HOSTS": hosts})
    done = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=_environment(tmp_path, **values),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0
    assert "ALLOWED_HOSTS" in done.stderr


def test_production_answers_health_checks_on_its_allowed_host(tmp_path: Path) -> None:
    # /healthz reads the heartbeat table only: create that one instead of migrating.
    code = (
        "import json, django; django.setup(); "
        "from django.db import connection; from django.test import Client; "
        "from rapport.ops.models import Heartbeat; "
        "editor = connection.schema_editor(); editor.__enter__(); "
        "editor.create_model(Heartbeat); editor.__exit__(None, None, None); "
        "client = Client(); "
        "ok = client.get('/healthz', HTTP_HOST='rapport.example.test'); "
        "other = client.get('/healthz', HTTP_HOST='elsewhere.example.test'); "
        "page = client.get('/login/', HTTP_HOST='rapport.example.test'); "
        "print(json.dumps({'ok': [ok.status_code, ok.json()], 'other': other.status_code, "
        "'page': [page.status_code, page.get('Location', '')]}))"
    )
    done = _python(tmp_path, code, ALLOWED_HOSTS="rapport.example.test", **_PRODUCTION)
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    status, body = seen["ok"]
    assert status == 200, body
    assert body["database"] == "ok"
    assert seen["other"] == 400  # a host it was not told about is refused
    # Everything else still goes to HTTPS: only the health check is exempt.
    assert seen["page"] == [301, "https://rapport.example.test/login/"]
