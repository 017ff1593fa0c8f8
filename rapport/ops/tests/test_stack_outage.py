"""The stack `make run` starts stays up: a killed child comes back, an outage is waited out.

One `manage.py runstack` (gunicorn, the worker, the scheduler, the SMTP listener under the
supervisor) serves the whole module, on a database of its own: a SQLite file in its own
RAPPORT_VAR_DIR, or, when DATABASE_URL names PostgreSQL, a database the module creates on
that server and drops after. Slack's Web API is a local fake.

The outage: on SQLite the stack's directory is renamed away and back, so every connection
opened meanwhile fails with "unable to open database file" (a kept connection finds, at
its health check, that the file it opened is no longer at the database's path, and
reconnects); on PostgreSQL the database refuses new connections and its sessions are cut.
"""

import contextlib
import http.cookiejar
import json
import os
import signal
import smtplib
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage, Message
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from rapport.integrations.slack.tests.conftest import (
    CHANNEL,
    CUSTOMER,
    SIGNING_SECRET,
    TEAM,
    FakeSlackApi,
    fake_slack_api_served,
    signed_headers,
)
from rapport.ops.supervisor import children_running
from rapport.ops.tests.stack_kit import ROOT, free_port, manage, until

OUTAGE_SECONDS = 6
PASSWORD = "stack-outage-pw"  # noqa: S105 - a throwaway test account
ADMIN = "ops@rapport.test"
SUPPORT = "support@rapport.test"
SERVER_URL = os.environ.get("DATABASE_URL", "")
ON_POSTGRES = SERVER_URL.startswith(("postgres://", "postgresql://"))


@dataclass
class Answer:
    status: int
    headers: Message  # looked up without regard to case, as HTTP wants
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")


def _request(
    url: str,
    *,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    opener: urllib.request.OpenerDirector | None = None,
) -> Answer:
    """One HTTP request; an error status is an answer too, not an exception."""
    request = urllib.request.Request(  # noqa: S310 - a local test server
        url, data=body, method=method, headers=headers or {}
    )
    try:
        open_url = opener.open if opener is not None else urllib.request.urlopen
        with open_url(request, timeout=30) as response:
            return Answer(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        return Answer(error.code, error.headers, error.read())
    except (urllib.error.URLError, OSError) as error:  # refused, reset: no answer at all
        return Answer(0, Message(), repr(error).encode())


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any) -> None:
        return None


@dataclass
class Stack:
    process: subprocess.Popen[bytes]
    url: str
    smtp_port: int
    token: str
    var_dir: Path
    log: Path
    env: dict[str, str]
    postgres_name: str = ""
    admin_url: str = ""

    # --- the processes ---

    def child_pids(self, command: str) -> list[int]:
        """The pids of the supervisor's children whose command line has *command*."""
        return children_running(self.process.pid, command)

    def pids(self) -> dict[str, list[int]]:
        return {
            name: self.child_pids(name)
            for name in ("gunicorn", "worker", "scheduler", "smtp_listener")
        }

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    # --- the database, read and written from the test, never during the outage ---

    def query(self, sql: str, *params: object) -> list[tuple[Any, ...]]:
        """Run one statement in its own connection; the rows it returns, if any."""
        if self.postgres_name:
            import psycopg

            with psycopg.connect(self.env["DATABASE_URL"], autocommit=True) as server:
                cursor = server.execute(sql, params)
                return list(cursor.fetchall()) if cursor.description else []
        file = sqlite3.connect(self.var_dir / "rapport.sqlite3", timeout=30, isolation_level=None)
        try:
            return list(file.execute(sql.replace("%s", "?"), params).fetchall())
        finally:
            file.close()

    def count(self, sql: str, *params: object) -> int:
        return int(self.query(sql, *params)[0][0])

    @contextlib.contextmanager
    def outage(self) -> Iterator[None]:
        """Take the database away for the block, then give it back."""
        if self.postgres_name:
            import psycopg

            with psycopg.connect(self.admin_url, autocommit=True) as conn:
                conn.execute(f'ALTER DATABASE "{self.postgres_name}" WITH ALLOW_CONNECTIONS false')
                conn.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = %s AND pid <> pg_backend_pid()",
                    (self.postgres_name,),
                )
                try:
                    yield
                finally:
                    conn.execute(
                        f'ALTER DATABASE "{self.postgres_name}" WITH ALLOW_CONNECTIONS true'
                    )
            return
        away = self.var_dir.with_name(self.var_dir.name + ".away")
        self.var_dir.rename(away)
        try:
            yield
        finally:
            # A process that created the directory again meanwhile would have made an empty
            # database in it: that is a failure of the test, not something to paper over.
            assert not self.var_dir.exists(), "a process created the data directory again"
            away.rename(self.var_dir)

    # --- the faces ---

    def api(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        server: str = "",
        **headers: str,
    ) -> Answer:
        return _request(
            (server or self.url) + path,
            method=method,
            body=json.dumps(body).encode() if body is not None else None,
            headers={
                "Authorization": f"Bearer {self.token}",
                "Content-Type": "application/json",
                **headers,
            },
        )

    def ticket(self, email: str, key: str = "", *, server: str = "") -> Answer:
        body = {"requester_email": email, "subject": "Sync stuck", "body": "Since this morning."}
        keyed = {"Idempotency-Key": key} if key else {}
        return self.api("POST", "/api/v1/tickets", body, server=server, **keyed)

    def health(self) -> Answer:
        return _request(self.url + "/healthz")

    def slack_event(self, event_id: str, ts: str, text: str) -> Answer:
        envelope = {
            "token": "legacy",
            "team_id": TEAM,
            "api_app_id": "A0RAPPORT",
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(float(ts)),
            "event": {
                "type": "message",
                "channel": CHANNEL,
                "channel_type": "channel",
                "user": CUSTOMER,
                "text": text,
                "ts": ts,
                "event_ts": ts,
            },
        }
        raw = json.dumps(envelope).encode()
        return _request(
            self.url + "/integrations/slack/events",
            method="POST",
            body=raw,
            headers={"Content-Type": "application/json", **signed_headers(raw)},
        )

    def email(self, message_id: str, subject: str) -> None:
        """Send one customer email through the SMTP listener (raises on a refusal)."""
        message = EmailMessage()
        message["From"] = "Jane Doe <jane@acme-outage.example>"
        message["To"] = SUPPORT
        message["Subject"] = subject
        message["Message-ID"] = f"<{message_id}@acme-outage.example>"
        message.set_content(f"{subject}: the nightly sync is stuck again.")
        with smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=30) as smtp:
            smtp.send_message(message)

    def login(self) -> urllib.request.OpenerDirector:
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect)
        assert _request(self.url + "/login/", opener=opener).status == 200
        csrf = next(c.value for c in jar if c.name == "csrftoken")
        form = urllib.parse.urlencode(
            {"username": ADMIN, "password": PASSWORD, "csrfmiddlewaretoken": csrf}
        ).encode()
        answer = _request(
            self.url + "/login/",
            method="POST",
            body=form,
            headers={"Content-Type": "application/x-www-form-urlencoded", "Referer": self.url},
            opener=opener,
        )
        assert answer.status == 302, answer
        return opener


@contextlib.contextmanager
def _own_postgres_database() -> Iterator[tuple[str, str, str]]:
    """A database of the stack's own on the server DATABASE_URL names; dropped after."""
    import psycopg

    name = f"rapport_outage_{uuid.uuid4().hex[:12]}"
    parts = urlsplit(SERVER_URL)
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name, urlunsplit(parts._replace(path=f"/{name}")), admin_url
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def slack_api() -> Iterator[FakeSlackApi]:
    with fake_slack_api_served() as fake:
        fake.add_user(CUSTOMER, email="jane.doe@acmecorp.example", real_name="Jane Doe")
        fake.add_channel(CHANNEL, name="acme-support")
        yield fake


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, slack_api: FakeSlackApi) -> Iterator[Stack]:
    base = tmp_path_factory.mktemp("stack-outage")
    var_dir = base / "var"
    port, smtp_port = free_port(), free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key
        not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "PYTEST_XDIST_WORKER", "DEBUG", "PORT")
    } | {
        "RAPPORT_ENV": "development",
        "RAPPORT_VAR_DIR": str(var_dir),
        "SITE_URL": f"http://127.0.0.1:{port}",
        "SUPPORT_EMAIL": SUPPORT,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_port),
        "SLACK_API_URL": slack_api.url,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_BOT_TOKEN": "xoxb-stack-outage",
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        # Two web processes of four threads: enough for the concurrency case, light on CI.
        "WEB_CONCURRENCY": "2",
        "WEB_THREADS": "4",
    }
    with contextlib.ExitStack() as cleanup:
        postgres_name = admin_url = ""
        if ON_POSTGRES:
            postgres_name, env["DATABASE_URL"], admin_url = cleanup.enter_context(
                _own_postgres_database()
            )
        manage(env, "migrate", "--no-input", "-v", "0")
        token = (
            manage(
                env,
                "shell",
                "-c",
                "from rapport.users.services import api_token_create, user_create; "
                "from rapport.mapping.services import mapping_settings_update; "
                f"user = user_create(email={ADMIN!r}, password={PASSWORD!r}, name='Ops', "
                "role='admin'); "
                # A new customer domain gets an account of its own, as in the demo.
                "mapping_settings_update(actor=user, auto_create_accounts=True); "
                "print(api_token_create(user=user)[1])",
            )
            .strip()
            .splitlines()[-1]
        )
        log = base / "stack.log"
        process = subprocess.Popen(  # noqa: S603
            [sys.executable, "manage.py", "runstack", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=cleanup.enter_context(log.open("wb")),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        stack = Stack(
            process,
            f"http://127.0.0.1:{port}",
            smtp_port,
            token,
            var_dir,
            log,
            env,
            postgres_name,
            admin_url,
        )
        try:
            _until_serving(stack)
            yield stack
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _until_serving(stack: Stack, timeout: float = 120) -> None:
    """Wait for the web server, the worker's first beat and the SMTP listener."""

    def ready() -> bool:
        assert stack.process.poll() is None, f"runstack stopped:\n{stack.log_tail()}"
        try:
            answer = stack.health()
            with socket.create_connection(("127.0.0.1", stack.smtp_port), timeout=1):
                pass
        except OSError:
            return False
        return answer.status == 200 and answer.json().get("worker") == "ok"

    try:
        until(ready, "the stack to serve", timeout)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{stack.log_tail()}") from None


def _one(pids: list[int], what: str) -> int:
    assert len(pids) == 1, f"{what}: {pids}"
    return pids[0]


# --- a production-grade server ---------------------------------------------------------------


def test_make_run_serves_through_gunicorn_with_static_files_from_whitenoise(stack: Stack) -> None:
    css = _request(stack.url + "/static/rapport/rapport.css")
    assert css.status == 200
    assert css.headers["Server"].startswith("gunicorn")
    assert css.headers["Content-Type"].startswith("text/css")
    assert css.body == (ROOT / "rapport/static/rapport/rapport.css").read_bytes()
    health = stack.health()
    assert health.status == 200
    assert health.headers["Server"].startswith("gunicorn")
    _one(stack.child_pids("gunicorn"), "the web server")


def _first_tickets_at_once(stack: Stack, server: str = "") -> None:
    """20 clients send the first tickets of a new customer domain at the same moment."""
    domain = f"first-{uuid.uuid4().hex[:10]}.example"
    start = threading.Barrier(20)
    answers: list[Answer | BaseException] = [RuntimeError("not run")] * 20

    def post(n: int) -> None:
        try:
            start.wait(timeout=30)
            answers[n] = stack.ticket(f"person{n}@{domain}", server=server)
        except BaseException as exc:  # noqa: BLE001 - the answer is what the test inspects
            answers[n] = exc

    threads = [threading.Thread(target=post, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    statuses = [a.status if isinstance(a, Answer) else repr(a) for a in answers]
    assert statuses == [201] * 20, f"{statuses}\n{stack.log_tail()}"
    accounts = stack.query("SELECT id FROM accounts_account WHERE primary_domain = %s", domain)
    assert len(accounts) == 1
    linked = {a.json()["account_id"] for a in answers if isinstance(a, Answer)}
    assert linked == {accounts[0][0]}


def test_twenty_first_tickets_from_one_new_domain_make_one_account(stack: Stack) -> None:
    _first_tickets_at_once(stack)


@pytest.fixture
def sqlite_url_server(stack: Stack, tmp_path: Path) -> Iterator[str]:
    """gunicorn, as runstack starts it, on the stack's SQLite file named by DATABASE_URL."""
    if stack.postgres_name:
        pytest.skip("SQLite through DATABASE_URL: the PostgreSQL run has no SQLite file")
    port = free_port()
    env = stack.env | {
        "DATABASE_URL": f"sqlite:///{stack.var_dir / 'rapport.sqlite3'}",
        "DEBUG": "0",
    }
    log = (tmp_path / "gunicorn.log").open("wb")
    process = subprocess.Popen(  # noqa: S603
        [
            *(sys.executable, "-m", "gunicorn", "rapport.wsgi:application"),
            *("--bind", f"127.0.0.1:{port}", "--worker-class", "gthread"),
            *("--workers", "2", "--threads", "4"),
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        until(lambda: _request(url + "/healthz").status == 200, "gunicorn on DATABASE_URL", 60)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


def test_first_tickets_at_once_on_sqlite_named_by_database_url(
    stack: Stack, sqlite_url_server: str
) -> None:
    """Without the embedded settings (IMMEDIATE, busy timeout) some would fail as locked."""
    _first_tickets_at_once(stack, sqlite_url_server)


# --- a killed child ----------------------------------------------------------------------------


def test_a_killed_worker_is_restarted_while_the_rest_keeps_serving(stack: Stack) -> None:
    before = stack.pids()
    killed = _one(before["worker"], "the worker")
    os.kill(killed, signal.SIGKILL)
    restarted = until(
        lambda: [pid for pid in stack.child_pids("worker") if pid != killed],
        "a new worker",
    )
    assert len(restarted) == 1
    # The other children never stopped.
    after = stack.pids()
    for name in ("gunicorn", "scheduler", "smtp_listener"):
        assert after[name] == before[name], name
    assert stack.health().status == 200
    # The new worker works: an email stored by the listener becomes a message.
    message_id = f"after-kill-{uuid.uuid4().hex[:8]}"
    stack.email(message_id, "After the kill")
    until(
        lambda: stack.count(
            "SELECT count(*) FROM inbox_message WHERE external_id LIKE %s", f"%{message_id}%"
        ),
        "the new worker to process an email",
    )
    log = stack.log.read_text(errors="replace")
    assert f"worker exited with code {-signal.SIGKILL}" in log


# --- a database outage -------------------------------------------------------------------------


def _retry(send: Callable[[], Answer], what: str) -> Answer:
    """Send until the answer is not 503, as a client told to retry does."""

    def attempt() -> Answer | None:
        answer = send()
        return None if answer.status == 503 else answer

    return until(attempt, what)


def _email_until_accepted(stack: Stack, message_id: str, subject: str) -> None:
    """Send as a mail server does: a 451 means keep the message and try again later."""

    def attempt() -> bool:
        try:
            stack.email(message_id, subject)
        except smtplib.SMTPResponseException as exc:
            if exc.smtp_code == 451:
                return False
            raise
        return True

    until(attempt, f"the listener to accept {message_id}")


def test_every_process_survives_a_database_outage_and_nothing_is_lost(stack: Stack) -> None:
    run = uuid.uuid4().hex[:8]
    browser = stack.login()
    assert _request(stack.url + "/accounts/", opener=browser).status == 200
    before = stack.pids()
    assert all(len(pids) == 1 for pids in before.values()), before
    # Accepted before the outage: the worker may be in the middle of them when it starts.
    early = [f"outage-{run}-early-{n}" for n in range(5)]
    for message_id in early:
        stack.email(message_id, f"Early {message_id}")
    ticket_before = stack.ticket(f"lee@globex-{run}.example", key=f"{run}-before")
    assert ticket_before.status == 201

    during_mail, during_ticket = f"outage-{run}-during", f"{run}-during"
    event_id, ts = f"Ev{run}", f"{int(time.time())}.000100"
    with stack.outage():
        started = time.monotonic()
        until(lambda: stack.health().status == 503, "/healthz to notice the outage", 5)

        health = stack.health()
        assert health.status == 503
        assert health.headers.get("Retry-After") == "5"
        assert health.json()["database"] == "error"

        listing = stack.api("GET", "/api/v1/conversations")
        assert listing.status == 503, listing
        assert listing.headers.get("Retry-After") == "5"
        assert "database is unavailable" in listing.json()["error"]

        refused = stack.ticket(f"kim@initech-{run}.example", key=during_ticket)
        assert refused.status == 503, refused
        assert refused.headers.get("Retry-After") == "5"

        page = _request(stack.url + "/accounts/", opener=browser)
        assert page.status == 503, page
        assert page.headers.get("Retry-After") == "5"
        assert b"database" in page.body and page.headers["Content-Type"].startswith("text/html")

        slack = stack.slack_event(event_id, ts, f"Hello from Slack {run}")
        assert slack.status == 503, slack
        assert slack.headers.get("Retry-After") == "5"

        with pytest.raises(smtplib.SMTPResponseException) as refused_mail:
            stack.email(during_mail, "During the outage")
        assert refused_mail.value.smtp_code == 451

        time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - started)))

    # The database is back: everything serves again without a restart.
    until(lambda: stack.health().status == 200, "/healthz to answer 200 again")
    after = stack.pids()
    assert after == before, f"a process was restarted: {before} -> {after}\n{stack.log_tail()}"

    # What was refused is accepted on retry, once.
    accepted = _retry(
        lambda: stack.ticket(f"kim@initech-{run}.example", key=during_ticket), "the ticket"
    )
    assert accepted.status == 201, accepted
    replayed = stack.ticket(f"kim@initech-{run}.example", key=during_ticket)
    assert replayed.status == 200 and replayed.json()["id"] == accepted.json()["id"]
    _email_until_accepted(stack, during_mail, "During the outage")
    stack.email(during_mail, "During the outage")  # a relay's duplicate delivery: a no-op
    assert (
        _retry(lambda: stack.slack_event(event_id, ts, f"Hello {run}"), "the Slack event").status
        == 200
    )
    assert stack.slack_event(event_id, ts, f"Hello {run}").status == 200  # Slack's redelivery

    # Everything accepted is processed exactly once.
    def emails() -> dict[str, int] | None:
        rows = stack.query(
            "SELECT external_id, count(*) FROM inbox_message "
            "WHERE source = 'email' AND external_id LIKE %s GROUP BY external_id",
            f"%outage-{run}-%",
        )
        return dict(rows) if len(rows) == len(early) + 1 else None

    counts = until(emails, "every email accepted to become a message")
    assert sorted(counts.values()) == [1] * (len(early) + 1), counts
    slack_messages = until(
        lambda: stack.count(
            "SELECT count(*) FROM inbox_message m JOIN inbox_inboundevent e ON m.event_id = e.id "
            "WHERE e.source = 'slack' AND e.external_id = %s",
            event_id,
        ),
        "the Slack message",
    )
    assert slack_messages == 1
    tickets = stack.count(
        "SELECT count(*) FROM inbox_conversation WHERE source = 'api' AND thread_key IN (%s, %s)",
        f"{run}-before",
        during_ticket,
    )
    assert tickets == 2
    assert (
        stack.count(
            "SELECT count(*) FROM inbox_inboundevent WHERE status NOT IN ('done', 'ignored') "
            "AND (external_id LIKE %s OR external_id IN (%s, %s, %s))",
            f"%outage-{run}-%",
            event_id,
            f"{run}-before",
            during_ticket,
        )
        == 0
    )
    failed = stack.query(
        "SELECT task_path, exception_class_path FROM django_tasks_database_dbtaskresult "
        "WHERE status = 'FAILED'"
    )
    assert failed == []

    # Each long-running process met the outage and waited it out (it did not sit idle).
    log = stack.log.read_text(errors="replace")
    assert "the worker retries in" in log
    assert "the scheduler retries in" in log
    assert "answered 451" in log

    # The scheduler still enqueues: make a job due now and see it enqueued and run.
    task_path = "rapport.requests.tasks.requests_auto_close_run"
    runs = stack.count(
        "SELECT count(*) FROM django_tasks_database_dbtaskresult WHERE task_path = %s", task_path
    )
    stack.query(
        "UPDATE ops_scheduledjob SET next_run_at = %s WHERE name = 'requests_auto_close'",
        "2000-01-01 00:00:00",
    )
    until(
        lambda: (
            stack.count(
                "SELECT count(*) FROM django_tasks_database_dbtaskresult "
                "WHERE task_path = %s AND status = 'SUCCESSFUL'",
                task_path,
            )
            > runs
        ),
        "the scheduler to enqueue a due job after the outage, and the worker to run it",
    )
