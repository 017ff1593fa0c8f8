"""Sign-in throttling, through the real login pages and the API.

Ten failures for one email from one IP within 15 minutes, or a hundred from one IP,
pause that pair (or IP) with a 429 for 15 minutes; other IPs never notice.
"""

import datetime
import logging
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from conftest import PASSWORD
from rapport import schedule
from rapport.users.models import LoginBlock, LoginFailure, User
from rapport.users.services_throttle import (
    FAILURES_PER_EMAIL,
    FAILURES_PER_IP,
    login_throttle_prune,
)

pytestmark = pytest.mark.django_db

ATTACKER = "203.0.113.7"
ELSEWHERE = "198.51.100.20"


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[int], None]:
    """Move Django's clock forward by some minutes."""
    real_now = timezone.now
    offset = datetime.timedelta()

    def advance(minutes: int) -> None:
        nonlocal offset
        offset += datetime.timedelta(minutes=minutes)

    monkeypatch.setattr(timezone, "now", lambda: real_now() + offset)
    return advance


def _login(
    client: Client, email: str, password: str, ip: str = ATTACKER, forwarded_for: str = ""
) -> Any:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return client.post(
        "/login/", {"username": email, "password": password}, REMOTE_ADDR=ip, headers=headers
    )


def _fail(client: Client, email: str, times: int, ip: str = ATTACKER) -> None:
    for _ in range(times):
        response = _login(client, email, "not the password", ip)
        assert response.status_code == 200


def test_the_eleventh_attempt_after_ten_failures_is_refused_with_429_even_with_the_password(
    member_user: User, client: Client
) -> None:
    _fail(client, "member@example.test", FAILURES_PER_EMAIL)
    response = _login(client, "member@example.test", PASSWORD)
    assert response.status_code == 429
    html = response.content.decode()
    assert "Too many failed sign-ins" in html
    assert "try again in 15 minutes" in html
    assert int(response["Retry-After"]) > 14 * 60
    assert client.session.get("_auth_user_id") is None


def test_nine_failures_still_let_the_right_password_in(member_user: User, client: Client) -> None:
    _fail(client, "member@example.test", FAILURES_PER_EMAIL - 1)
    response = _login(client, "member@example.test", PASSWORD)
    assert response.status_code == 302


def test_a_blocked_account_still_signs_in_from_another_ip(member_user: User) -> None:
    _fail(Client(), "member@example.test", FAILURES_PER_EMAIL)
    assert _login(Client(), "member@example.test", PASSWORD).status_code == 429
    client = Client()
    response = _login(client, "member@example.test", PASSWORD, ip=ELSEWHERE)
    assert response.status_code == 302
    assert client.session.get("_auth_user_id") == str(member_user.pk)


def test_a_blocked_pair_leaves_other_emails_from_the_same_ip_alone(
    member_user: User, admin_user: User
) -> None:
    _fail(Client(), "admin@example.test", FAILURES_PER_EMAIL)
    response = _login(Client(), "member@example.test", PASSWORD)
    assert response.status_code == 302


def test_the_email_is_counted_whatever_its_case_and_spaces(
    member_user: User, client: Client
) -> None:
    for email in ["member@example.test", " MEMBER@example.test "] * (FAILURES_PER_EMAIL // 2):
        _login(client, email, "wrong")
    assert _login(client, "Member@Example.test", PASSWORD).status_code == 429


def test_the_block_lasts_fifteen_minutes_and_then_lifts(
    member_user: User, client: Client, clock: Callable[[int], None]
) -> None:
    _fail(client, "member@example.test", FAILURES_PER_EMAIL)
    clock(14)
    response = _login(client, "member@example.test", PASSWORD)
    assert response.status_code == 429
    assert "try again in 1 minute." in response.content.decode()
    clock(2)
    assert _login(client, "member@example.test", PASSWORD).status_code == 302


def test_failures_older_than_fifteen_minutes_no_longer_count(
    member_user: User, client: Client, clock: Callable[[int], None]
) -> None:
    _fail(client, "member@example.test", FAILURES_PER_EMAIL - 1)
    clock(16)
    _fail(client, "member@example.test", 1)
    assert _login(client, "member@example.test", PASSWORD).status_code == 302


def test_a_hundred_failures_from_one_ip_block_every_email_from_it_but_no_other_ip(
    member_user: User, client: Client
) -> None:
    # Spread over many emails, so no pair reaches its own limit; a success on the way
    # does not reset the IP's count.
    for i in range(FAILURES_PER_IP - 1):
        _login(client, f"guess{i % 20}@example.test", "wrong")
    assert _login(Client(), "member@example.test", PASSWORD).status_code == 302
    _login(client, "guess99@example.test", "wrong")
    response = _login(Client(), "member@example.test", PASSWORD)
    assert response.status_code == 429
    assert "from your network" in response.content.decode()
    assert _login(Client(), "member@example.test", PASSWORD, ip=ELSEWHERE).status_code == 302


def test_each_block_is_logged_with_the_ip_and_the_email(
    member_user: User, client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="rapport.users.services_throttle"):
        _fail(client, "member@example.test", FAILURES_PER_EMAIL)
    [record] = [r for r in caplog.records if r.name == "rapport.users.services_throttle"]
    assert record.levelno == logging.WARNING
    assert ATTACKER in record.getMessage()
    assert "member@example.test" in record.getMessage()


def test_the_admin_login_is_throttled_too(admin_user: User) -> None:
    client = Client()
    for _ in range(FAILURES_PER_EMAIL):
        response = client.post(
            "/admin/login/",
            {"username": "admin@example.test", "password": "wrong"},
            REMOTE_ADDR=ATTACKER,
        )
        assert response.status_code == 200
    response = client.post(
        "/admin/login/",
        {"username": "admin@example.test", "password": PASSWORD},
        REMOTE_ADDR=ATTACKER,
    )
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.content.decode()
    response = Client().post(
        "/admin/login/",
        {"username": "admin@example.test", "password": PASSWORD},
        REMOTE_ADDR=ELSEWHERE,
    )
    assert response.status_code == 302


def test_the_web_and_admin_logins_count_together(admin_user: User, client: Client) -> None:
    _fail(client, "admin@example.test", FAILURES_PER_EMAIL // 2)
    for _ in range(FAILURES_PER_EMAIL - FAILURES_PER_EMAIL // 2):
        client.post(
            "/admin/login/",
            {"username": "admin@example.test", "password": "wrong"},
            REMOTE_ADDR=ATTACKER,
        )
    assert _login(client, "admin@example.test", PASSWORD).status_code == 429


def test_a_forwarded_for_header_is_ignored_unless_the_proxy_is_trusted(
    member_user: User, settings: Any
) -> None:
    # Untrusted: a client cannot escape its block by writing another X-Forwarded-For.
    _fail(Client(), "member@example.test", FAILURES_PER_EMAIL)
    response = _login(Client(), "member@example.test", PASSWORD, forwarded_for="192.0.2.99")
    assert response.status_code == 429
    # Trusted: the proxy's address is everyone's REMOTE_ADDR; the header names the client.
    settings.TRUST_X_FORWARDED_FOR = True
    response = _login(
        Client(), "member@example.test", PASSWORD, forwarded_for=f"{ELSEWHERE}, {ATTACKER}"
    )
    assert response.status_code == 302
    response = _login(
        Client(), "member@example.test", PASSWORD, forwarded_for=f"{ATTACKER}, 10.0.0.1"
    )
    assert response.status_code == 429


def test_the_old_web_chat_name_of_the_proxy_setting_still_trusts_the_proxy(
    tmp_path: Path,
) -> None:
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.TRUST_X_FORWARDED_FOR, settings.WEBCHAT_TRUST_X_FORWARDED_FOR)"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "rapport.settings",
        "RAPPORT_ENV": "test",
        "RAPPORT_VAR_DIR": str(tmp_path),
        "WEBCHAT_TRUST_X_FORWARDED_FOR": "on",
    }
    env.pop("TRUST_X_FORWARDED_FOR", None)
    out = subprocess.run(  # noqa: S603 (our own interpreter and code)
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["True", "True"]


# --- API tokens ------------------------------------------------------------------------------


def _api(token: str, ip: str = ATTACKER) -> Any:
    return Client().get(
        "/api/v1/accounts", headers={"Authorization": f"Bearer {token}"}, REMOTE_ADDR=ip
    )


def test_an_ip_sending_bad_tokens_gets_429_with_retry_after_and_other_ips_do_not() -> None:
    for i in range(FAILURES_PER_IP):
        assert _api(f"rpt_wrong{i}").status_code == 401
    response = _api("rpt_wrong-again")
    assert response.status_code == 429
    assert response["Content-Type"].startswith("application/json")
    assert "Too many failed sign-ins" in response.json()["error"]
    assert int(response["Retry-After"]) > 14 * 60
    assert _api("rpt_wrong-again", ip=ELSEWHERE).status_code == 401


def test_bad_tokens_block_password_sign_ins_from_the_ip_too(member_user: User) -> None:
    for i in range(FAILURES_PER_IP):
        _api(f"rpt_wrong{i}")
    assert _login(Client(), "member@example.test", PASSWORD).status_code == 429


def test_a_valid_token_keeps_working_from_a_blocked_ip(member_token: str) -> None:
    """A token cannot be guessed, so it is no guess to slow down; a good client on the
    same network as a broken one keeps working."""
    for i in range(FAILURES_PER_IP):
        _api(f"rpt_wrong{i}")
    assert _api("rpt_wrong-again").status_code == 429
    assert _api(member_token).status_code == 200


def test_a_browser_session_is_not_throttled_by_bad_tokens_from_its_ip(
    member_client: Client,
) -> None:
    for i in range(FAILURES_PER_IP):
        _api(f"rpt_wrong{i}", ip="127.0.0.1")
    assert member_client.get("/api/v1/accounts").status_code == 200


def test_the_openapi_document_gives_the_429_of_secured_operations(client: Client) -> None:
    document = client.get("/api/v1/openapi.json").json()
    answers = document["paths"]["/api/v1/accounts"]["get"]["responses"]
    assert "429" in answers
    assert "Retry-After" in answers["429"]["headers"]
    schema = answers["429"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/ErrorOut"}
    assert document["components"]["schemas"]["ErrorOut"]["required"] == ["error"]


# --- pruning ---------------------------------------------------------------------------------


def test_the_scheduler_prunes_failures_and_blocks_that_no_longer_count(
    member_user: User, client: Client, clock: Callable[[int], None]
) -> None:
    assert "login_throttle_prune" in [name for name, _, _ in schedule.JOBS]
    _fail(client, "member@example.test", FAILURES_PER_EMAIL)
    assert login_throttle_prune() == 0
    clock(16)
    _fail(client, "member@example.test", 1)
    assert login_throttle_prune() == FAILURES_PER_EMAIL + 1  # ten old failures and the block
    assert LoginFailure.objects.count() == 1
    assert not LoginBlock.objects.exists()


def test_the_login_page_under_block_still_offers_a_way_back(
    member_user: User, client: Client
) -> None:
    _fail(client, "member@example.test", FAILURES_PER_EMAIL)
    html = _login(client, "member@example.test", PASSWORD).content.decode()
    assert re.search(r'href="/login/"', html)
