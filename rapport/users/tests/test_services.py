"""Members, roles, teams and personal API tokens."""

import datetime
import hashlib

import pytest
from django.utils import timezone

from conftest import PASSWORD
from rapport.core.errors import InvalidInput, PermissionDenied
from rapport.users.models import ApiToken, Role, Team, User
from rapport.users.services import (
    TOKEN_PREFIX,
    api_token_authenticate,
    api_token_create,
    api_token_revoke,
    team_create,
    user_create,
    user_require_admin,
)

pytestmark = pytest.mark.django_db


# --- users and roles -----------------------------------------------------------------------


def test_a_new_member_has_a_lower_case_email_and_a_hashed_password(db: None) -> None:
    user = user_create(email="  Jane.Doe@Example.TEST ", password=PASSWORD, name="Jane")
    assert user.email == "jane.doe@example.test"
    assert user.role == Role.MEMBER
    assert not user.is_admin
    assert PASSWORD not in user.password
    assert user.check_password(PASSWORD)


def test_an_admin_may_also_use_the_django_admin_site(db: None) -> None:
    admin = user_create(email="boss@example.test", password=PASSWORD, role=Role.ADMIN)
    assert admin.is_admin
    assert admin.is_staff


@pytest.mark.parametrize(
    ("email", "role", "message"),
    [
        ("", Role.MEMBER, "valid email"),
        ("no-at-sign", Role.MEMBER, "valid email"),
        ("jane@example.test", "owner", "Unknown role"),
    ],
)
def test_bad_members_are_refused(db: None, email: str, role: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        user_create(email=email, password=PASSWORD, role=role)
    assert not User.objects.exists()


def test_an_email_belongs_to_one_member(member_user: User) -> None:
    with pytest.raises(InvalidInput, match="already exists"):
        user_create(email="MEMBER@example.test", password=PASSWORD)
    assert User.objects.count() == 1


def test_only_an_active_admin_passes_the_admin_check(admin_user: User, member_user: User) -> None:
    user_require_admin(admin_user, "do admin things")
    with pytest.raises(PermissionDenied, match="Only an admin can do admin things."):
        user_require_admin(member_user, "do admin things")
    admin_user.is_active = False
    with pytest.raises(PermissionDenied):
        user_require_admin(admin_user, "do admin things")


def test_a_member_shows_by_name_or_else_email(db: None) -> None:
    named = user_create(email="a@example.test", password=None, name="Ann")
    unnamed = user_create(email="b@example.test", password=None)
    assert (named.display_name, str(named)) == ("Ann", "Ann")
    assert (unnamed.display_name, str(unnamed)) == ("b@example.test", "b@example.test")
    assert not unnamed.has_usable_password()


# --- teams ---------------------------------------------------------------------------------


def test_a_team_groups_members(admin_user: User, member_user: User) -> None:
    team = team_create(name=" Support EMEA ", members=[admin_user, member_user])
    assert team.name == "Support EMEA"
    assert set(team.members.all()) == {admin_user, member_user}
    assert list(member_user.teams.all()) == [team]


def test_creating_a_team_again_adds_members_to_the_same_team(
    admin_user: User, member_user: User
) -> None:
    first = team_create(name="Support", members=[admin_user])
    again = team_create(name="Support", members=[member_user])
    assert first.pk == again.pk
    assert Team.objects.count() == 1
    assert set(again.members.all()) == {admin_user, member_user}


def test_a_member_may_be_in_several_teams(member_user: User) -> None:
    team_create(name="Support", members=[member_user])
    team_create(name="Onboarding", members=[member_user])
    assert [t.name for t in member_user.teams.all()] == ["Onboarding", "Support"]


# --- API tokens ----------------------------------------------------------------------------


def test_a_token_is_stored_only_as_a_digest(member_user: User) -> None:
    token, raw = api_token_create(user=member_user, name="CI")
    assert raw.startswith(TOKEN_PREFIX)
    assert len(raw) > 40
    stored = ApiToken.objects.filter(pk=token.pk).values().get()
    assert raw not in [str(v) for v in stored.values()]
    assert stored["digest"] == hashlib.sha256(raw.encode()).hexdigest()
    assert raw.startswith(stored["prefix"])
    assert len(stored["prefix"]) < 12


def test_every_token_is_different(member_user: User) -> None:
    raws = {api_token_create(user=member_user)[1] for _ in range(20)}
    assert len(raws) == 20


def test_a_token_authenticates_its_member_and_records_its_use(member_user: User) -> None:
    token, raw = api_token_create(user=member_user)
    assert api_token_authenticate(raw) == member_user
    token.refresh_from_db()
    first_use = token.last_used_at
    assert first_use is not None
    api_token_authenticate(raw)
    token.refresh_from_db()
    assert token.last_used_at == first_use  # at most one write a minute


def test_a_revoked_token_stops_working_at_once(member_user: User) -> None:
    token, raw = api_token_create(user=member_user)
    api_token_revoke(token=token)
    assert api_token_authenticate(raw) is None
    token.refresh_from_db()
    revoked_at = token.revoked_at
    api_token_revoke(token=token)  # revoking again keeps the first time
    token.refresh_from_db()
    assert token.revoked_at == revoked_at


def test_an_expired_token_is_refused(member_user: User) -> None:
    past = timezone.now() - datetime.timedelta(minutes=1)
    future = timezone.now() + datetime.timedelta(minutes=5)
    assert api_token_authenticate(api_token_create(user=member_user, expires_at=past)[1]) is None
    assert api_token_authenticate(api_token_create(user=member_user, expires_at=future)[1]) == (
        member_user
    )


def test_a_token_of_a_disabled_member_is_refused(member_user: User) -> None:
    _, raw = api_token_create(user=member_user)
    member_user.is_active = False
    member_user.save()
    assert api_token_authenticate(raw) is None


@pytest.mark.parametrize(
    "raw", ["", "garbage", "rpt_", "Bearer rpt_abc", "rpt_" + "A" * 43, "RPT_abc"]
)
def test_unknown_tokens_are_refused(member_user: User, raw: str) -> None:
    api_token_create(user=member_user)
    assert api_token_authenticate(raw) is None


def test_a_token_that_differs_in_one_character_is_refused(member_user: User) -> None:
    _, raw = api_token_create(user=member_user)
    flipped = raw[:-1] + ("A" if raw[-1] != "A" else "B")
    assert api_token_authenticate(flipped) is None
