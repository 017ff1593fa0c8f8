"""Start Rapport the way `make run` does, on a database of the benchmark's own.

The stack is `manage.py runstack` (gunicorn, the worker, the scheduler, the SMTP listener,
under the supervisor) on 127.0.0.1 and a free port, with the demo workspace loaded into a
fresh database: `bench/.data/<name>/rapport.sqlite3` on SQLite, `rapport_bench_<name>` on
the PostgreSQL server DATABASE_URL names.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from bench.database import DATA_DIR, progress
from rapport.ops.supervisor import children_running

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Stack:
    """One running Rapport stack and the database it owns."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.var_dir = DATA_DIR / name
        self.port = free_port()
        self.smtp_port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = DATA_DIR / f"{name}.log"
        env = dict(os.environ)
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": "rapport.settings",
                "RAPPORT_ENV": "development",
                "RAPPORT_VAR_DIR": str(self.var_dir),
                "PORT": str(self.port),
                "SMTP_PORT": str(self.smtp_port),
                "LOG_LEVEL": "WARNING",
                "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
                "PYTHONDONTWRITEBYTECODE": "1",
            }
        )
        for key in ("DEBUG", "ALLOWED_HOSTS", "SITE_URL"):
            env.pop(key, None)
        url = env.get("DATABASE_URL", "")
        self.postgres_name = ""
        if url.startswith(("postgres://", "postgresql://")):
            self.postgres_name = f"rapport_bench_{name}"
            env["DATABASE_URL"] = urlunsplit(urlsplit(url)._replace(path=f"/{self.postgres_name}"))
            self.admin_url = url
        else:
            env.pop("DATABASE_URL", None)
        self.env = env

    @property
    def vendor(self) -> str:
        return "postgresql" if self.postgres_name else "sqlite"

    @property
    def sqlite_path(self) -> Path:
        return self.var_dir / "rapport.sqlite3"

    def manage(self, *args: str) -> str:
        """Run a management command on the stack's database; return what it printed.

        Its output is kept off stdout, which carries the benchmark's results.
        """
        result = subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
        )
        if result.returncode:
            sys.exit(f"bench: manage.py {' '.join(args)} failed:\n{result.stderr}")
        return result.stdout

    def prepare(self) -> str:
        """A fresh database with the demo workspace; return an admin API token."""
        shutil.rmtree(self.var_dir, ignore_errors=True)
        self.var_dir.mkdir(parents=True)
        if self.postgres_name:
            import psycopg

            with psycopg.connect(self.admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.postgres_name}" WITH (FORCE)')
                conn.execute(f'CREATE DATABASE "{self.postgres_name}"')
        self.manage("migrate", "--no-input", "-v", "0")
        self.manage("load_demo")
        return self.manage("create_api_token", "admin@example.com").strip().split()[-1]

    def start(self) -> None:
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(  # noqa: S603
            [sys.executable, "manage.py", "runstack", "--port", str(self.port)],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.wait_healthy()

    def health(self) -> tuple[int, dict[str, object]]:
        try:
            with urllib.request.urlopen(f"{self.url}/healthz", timeout=5) as answer:  # noqa: S310
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")

    def wait_healthy(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                sys.exit(f"bench: the stack stopped; see {self.log_path}")
            try:
                status, body = self.health()
                if status == 200 and body.get("worker") == "ok":
                    return
            except OSError:
                pass
            time.sleep(0.3)
        sys.exit(f"bench: the stack did not become healthy in {timeout:.0f} s; see {self.log_path}")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def child_pids(self, command: str) -> list[int]:
        """The pids of the supervisor's children running `manage.py <command>`."""
        assert self.process is not None
        return children_running(self.process.pid, command)

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None

    def connect(self) -> Any:
        """A DB-API connection to the stack's database, for checks and baselines."""
        if self.postgres_name:
            import psycopg

            return psycopg.connect(self.env["DATABASE_URL"], autocommit=True)
        import sqlite3

        conn = sqlite3.connect(self.sqlite_path, timeout=30, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        return conn

    def progress(self, message: str) -> None:
        progress(f"bench[{self.name}/{self.vendor}]: {message}")
