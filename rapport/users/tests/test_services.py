"""Members, roles, teams and personal API tokens."""

import datetime
import hashlib
from collections.abc import Callable

import pytest
from django.contrib.auth import authenticate
from django.db import IntegrityError, transaction
from django.utils import timezone

from conftest import PASSWORD
from rapport.audit.models import AuditEntry
from rapport.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from rapport.users.models import ApiToken, Role, Team, User
from rapport.users.services import (
    TOKEN_PREFIX,
    api_token_authenticate,
    api_token_create,
    api_token_revoke,
    member_update,
    team_create,
    user_create,
    user_require_admin,
    user_slack_link_by_email,
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


def test_a_token_name_is_bounded_and_a_deactivated_member_gets_no_token(
    member_user: User,
) -> None:
    with pytest.raises(InvalidInput, match="at most 100 characters"):
        api_token_create(user=member_user, name="x" * 101)
    member_user.is_active = False
    member_user.save()
    with pytest.raises(PermissionDenied):
        api_token_create(user=member_user, name="CI")
    assert not ApiToken.objects.exists()


def test_a_member_creates_tokens_only_for_themselves(admin_user: User, member_user: User) -> None:
    with pytest.raises(PermissionDenied):
        api_token_create(user=member_user, actor=admin_user, name="sneaky")
    token, _ = api_token_create(user=member_user, actor=member_user, name="CI")
    entry = AuditEntry.objects.get(action="api_token.create")
    assert (entry.actor, entry.object_id) == (member_user, str(token.pk))


def test_a_member_revokes_only_their_own_tokens(admin_user: User, member_user: User) -> None:
    token, raw = api_token_create(user=admin_user, name="admin's")
    with pytest.raises(NotFound):
        api_token_revoke(token=token, actor=member_user)
    assert api_token_authenticate(raw) == admin_user
    api_token_revoke(token=token, actor=admin_user)
    assert api_token_authenticate(raw) is None
    assert AuditEntry.objects.filter(action="api_token.revoke", actor=admin_user).count() == 1


# --- managing members ----------------------------------------------------------------------


def test_an_admin_changes_a_members_role_and_it_is_audited(
    admin_user: User, member_user: User
) -> None:
    member_update(actor=admin_user, member=member_user, role=Role.ADMIN)
    member_user.refresh_from_db()
    assert member_user.is_admin and member_user.is_staff
    entry = AuditEntry.objects.get(action="user.update", object_id=str(member_user.pk))
    assert entry.actor == admin_user
    assert entry.changes == {"role": {"before": "member", "after": "admin"}}
    member_update(actor=admin_user, member=member_user, role=Role.MEMBER)
    member_user.refresh_from_db()
    assert not member_user.is_admin and not member_user.is_staff


def test_a_member_cannot_change_anyone(admin_user: User, member_user: User) -> None:
    for values in ({"role": Role.ADMIN}, {"is_active": False}, {"slack_user_id": "U0123ABCD"}):
        with pytest.raises(PermissionDenied, match="Only an admin can change members"):
            member_update(actor=member_user, member=admin_user, **values)
        with pytest.raises(PermissionDenied):
            member_update(actor=member_user, member=member_user, **values)
    admin_user.refresh_from_db()
    member_user.refresh_from_db()
    assert admin_user.is_admin and not member_user.is_admin
    assert (admin_user.slack_user_id, member_user.slack_user_id) == ("", "")
    assert not AuditEntry.objects.exists()


def test_the_last_active_admin_can_neither_be_demoted_nor_deactivated(
    admin_user: User, member_user: User
) -> None:
    with pytest.raises(Conflict, match="You are the last active admin"):
        member_update(actor=admin_user, member=admin_user, role=Role.MEMBER)
    with pytest.raises(Conflict, match="last active admin"):
        member_update(actor=admin_user, member=admin_user, is_active=False)
    admin_user.refresh_from_db()
    assert admin_user.is_admin
    # With a second admin, either may step down.
    member_update(actor=admin_user, member=member_user, role=Role.ADMIN)
    member_update(actor=admin_user, member=admin_user, role=Role.MEMBER)
    admin_user.refresh_from_db()
    assert not admin_user.is_admin
    member_user.refresh_from_db()
    with pytest.raises(Conflict, match="You are the last active admin"):
        member_update(actor=member_user, member=member_user, is_active=False)


def test_a_deactivated_admin_does_not_count_as_the_other_admin(
    admin_user: User, make_user: Callable[..., User]
) -> None:
    other = make_user("other@example.test", role=Role.ADMIN)
    member_update(actor=admin_user, member=other, is_active=False)
    with pytest.raises(Conflict, match="last active admin"):
        member_update(actor=admin_user, member=admin_user, role=Role.MEMBER)
    # Reactivating the other admin lets this one step down.
    member_update(actor=admin_user, member=other, is_active=True)
    member_update(actor=admin_user, member=admin_user, role=Role.MEMBER)


def test_a_deactivated_member_cannot_log_in_nor_use_their_tokens_until_reactivated(
    admin_user: User, member_user: User
) -> None:
    _, raw = api_token_create(user=member_user)
    member_update(actor=admin_user, member=member_user, is_active=False)
    assert api_token_authenticate(raw) is None
    assert authenticate(username=member_user.email, password=PASSWORD) is None
    member_update(actor=admin_user, member=member_user, is_active=True)
    assert api_token_authenticate(raw) == member_user
    assert authenticate(username=member_user.email, password=PASSWORD) == member_user
    updates = AuditEntry.objects.filter(action="user.update").order_by("id")
    actions = list(updates.values_list("changes", flat=True))
    assert actions == [
        {"is_active": {"before": True, "after": False}},
        {"is_active": {"before": False, "after": True}},
    ]


@pytest.mark.parametrize("slack_user_id", ["U012AB3CD", "W0123456789", "u012ab3cd"])
def test_an_admin_links_a_member_to_a_slack_user(
    admin_user: User, member_user: User, slack_user_id: str
) -> None:
    member_update(actor=admin_user, member=member_user, slack_user_id=f" {slack_user_id} ")
    member_user.refresh_from_db()
    assert member_user.slack_user_id == slack_user_id.upper()
    member_update(actor=admin_user, member=member_user, slack_user_id="")
    member_user.refresh_from_db()
    assert member_user.slack_user_id == ""


@pytest.mark.parametrize(
    "slack_user_id", ["C012AB3CD", "U12", "U012 AB3CD", "@max", "U012AB3CD-", "U" + "1" * 40]
)
def test_a_value_that_is_no_slack_user_id_is_refused(
    admin_user: User, member_user: User, slack_user_id: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        member_update(actor=admin_user, member=member_user, slack_user_id=slack_user_id)
    assert refused.value.field == "slack_user_id"
    member_user.refresh_from_db()
    assert member_user.slack_user_id == ""


def test_a_slack_user_is_linked_to_one_member(admin_user: User, member_user: User) -> None:
    member_update(actor=admin_user, member=admin_user, slack_user_id="U0ADMIN01")
    with pytest.raises(Conflict, match="already linked to Ada Admin"):
        member_update(actor=admin_user, member=member_user, slack_user_id="U0ADMIN01")
    # Slack's own email match leaves the id with the member an admin linked it to.
    assert user_slack_link_by_email(email=member_user.email, slack_user_id="U0ADMIN01") is None
    member_user.refresh_from_db()
    assert member_user.slack_user_id == ""


def test_the_database_links_a_slack_user_to_one_member(admin_user: User, member_user: User) -> None:
    User.objects.filter(pk=admin_user.pk).update(slack_user_id="U0ADA0001")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.filter(pk=member_user.pk).update(slack_user_id="U0ADA0001")
    User.objects.filter(pk=member_user.pk).update(slack_user_id="")  # many may be unlinked


def test_a_bad_member_change_changes_nothing(admin_user: User, member_user: User) -> None:
    with pytest.raises(InvalidInput, match="Role must be one of"):
        member_update(actor=admin_user, member=member_user, role="owner")
    with pytest.raises(InvalidInput, match="Unknown fields: email"):
        member_update(actor=admin_user, member=member_user, email="x@example.test")
    with pytest.raises(InvalidInput, match="Active is on or off"):
        member_update(actor=admin_user, member=member_user, is_active=None)
    member_user.refresh_from_db()
    assert (member_user.role, member_user.is_active) == (Role.MEMBER, True)
    assert not AuditEntry.objects.exists()
