"""`manage.py create_api_token EMAIL`."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from rapport.users.models import ApiToken, User

pytestmark = pytest.mark.django_db


def _create_token(*args: str) -> str:
    out = StringIO()
    call_command("create_api_token", *args, stdout=out)
    return out.getvalue().strip()


def test_the_command_prints_a_token_that_works_on_the_api(member_user: User) -> None:
    raw = _create_token("member@example.test")
    assert "\n" not in raw
    response = Client(headers={"Authorization": f"Bearer {raw}"}).get("/api/v1/accounts")
    assert response.status_code == 200
    token = ApiToken.objects.get(user=member_user)
    assert token.name == "created with manage.py"
    assert token.digest != raw


def test_the_email_may_be_typed_in_any_case(member_user: User) -> None:
    _create_token("  MEMBER@Example.test ", "--name", "laptop")
    assert ApiToken.objects.get(user=member_user).name == "laptop"


def test_an_unknown_email_is_a_clear_error_and_creates_nothing(member_user: User) -> None:
    with pytest.raises(CommandError, match="No active user with the email nobody@example.test"):
        _create_token("nobody@example.test")
    assert not ApiToken.objects.exists()


def test_a_disabled_member_gets_no_token(member_user: User) -> None:
    member_user.is_active = False
    member_user.save()
    with pytest.raises(CommandError):
        _create_token("member@example.test")
    assert not ApiToken.objects.exists()


def test_the_command_runs_as_a_program(member_user: User, capsys: pytest.CaptureFixture) -> None:
    import logging

    from django.core.management import execute_from_command_line

    # The program sets logging up again, with handlers bound to this test's captured
    # stderr; put the suite's handlers back so later tests do not log to a closed file.
    root_handlers = logging.root.handlers[:]
    try:
        with pytest.raises(SystemExit) as exited:
            execute_from_command_line(["manage.py", "create_api_token", "nobody@example.test"])
    finally:
        logging.root.handlers[:] = root_handlers
    assert exited.value.code == 1
    assert "No active user with the email nobody@example.test" in capsys.readouterr().err
