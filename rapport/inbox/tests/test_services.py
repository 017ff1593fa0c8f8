"""Slack channels and the accounts they are linked to."""

import pytest

from rapport.accounts.tests.factories import make_account
from rapport.audit.models import AuditEntry
from rapport.core.errors import InvalidInput, PermissionDenied
from rapport.inbox.models import Channel
from rapport.inbox.services import channel_create, channel_set_accounts
from rapport.users.models import User

pytestmark = pytest.mark.django_db


def test_registering_a_channel_twice_returns_the_same_channel(db: None) -> None:
    first = channel_create(slack_team_id="T1", slack_channel_id="C1", name="#acme-support")
    again = channel_create(slack_team_id="T1", slack_channel_id="C1", name="renamed")
    assert first.pk == again.pk
    assert again.name == "acme-support"
    assert str(again) == "#acme-support"
    assert Channel.objects.count() == 1


def test_the_same_channel_id_in_another_workspace_is_another_channel(db: None) -> None:
    channel_create(slack_team_id="T1", slack_channel_id="C1", name="a")
    channel_create(slack_team_id="T2", slack_channel_id="C1", name="b")
    assert Channel.objects.count() == 2


@pytest.mark.parametrize(("team", "channel"), [("", "C1"), ("T1", "")])
def test_a_channel_needs_a_team_and_a_channel_id(db: None, team: str, channel: str) -> None:
    with pytest.raises(InvalidInput, match="team id and a channel id"):
        channel_create(slack_team_id=team, slack_channel_id=channel, name="x")
    assert not Channel.objects.exists()


def test_an_admin_links_a_channel_to_exactly_the_given_accounts(admin_user: User) -> None:
    acme, globex, initech = (make_account(n) for n in ("Acme", "Globex", "Initech"))
    channel = channel_create(slack_team_id="T1", slack_channel_id="C1", name="shared")
    channel_set_accounts(actor=admin_user, channel=channel, accounts=[acme, globex])
    channel_set_accounts(actor=admin_user, channel=channel, accounts=[globex, initech])
    assert set(channel.accounts.all()) == {globex, initech}
    assert list(acme.channels.all()) == []
    entries = AuditEntry.objects.filter(action="channel.link_accounts").order_by("id")
    assert [e.changes["accounts"] for e in entries] == [
        {"before": [], "after": sorted([acme.pk, globex.pk])},
        {"before": sorted([acme.pk, globex.pk]), "after": sorted([globex.pk, initech.pk])},
    ]
    assert all(e.actor == admin_user for e in entries)


def test_linking_the_same_accounts_again_is_not_audited(admin_user: User) -> None:
    acme = make_account("Acme")
    channel = channel_create(slack_team_id="T1", slack_channel_id="C1", name="shared")
    channel_set_accounts(actor=admin_user, channel=channel, accounts=[acme])
    channel_set_accounts(actor=admin_user, channel=channel, accounts=[acme])
    assert AuditEntry.objects.filter(action="channel.link_accounts").count() == 1


def test_a_member_cannot_relink_a_channel(member_user: User) -> None:
    acme = make_account("Acme")
    channel = channel_create(slack_team_id="T1", slack_channel_id="C1", name="shared")
    with pytest.raises(PermissionDenied):
        channel_set_accounts(actor=member_user, channel=channel, accounts=[acme])
    assert not channel.accounts.exists()


def test_the_system_links_channels_without_a_person(db: None) -> None:
    acme = make_account("Acme")
    channel = channel_create(slack_team_id="T1", slack_channel_id="C1", name="shared")
    channel_set_accounts(actor=None, channel=channel, accounts=[acme])
    assert list(channel.accounts.all()) == [acme]
    assert AuditEntry.objects.get(action="channel.link_accounts").actor_label == "system"


def test_recovery_leaves_events_whose_task_still_waits_in_the_queue(db: None) -> None:
    import datetime

    from django.utils import timezone

    from rapport.inbox.models import InboundEvent
    from rapport.inbox.services import inbound_event_store, inbound_events_recover
    from rapport.inbox.tasks import inbound_process

    waiting, lost = (
        inbound_event_store(source="api", external_id=key, payload={})[0]
        for key in ("waiting", "lost")
    )
    InboundEvent.objects.update(received_at=timezone.now() - datetime.timedelta(minutes=5))
    # A busy worker has not reached this event's task yet; the other's enqueue was lost.
    inbound_process.using(backend="database").enqueue([waiting.pk])
    assert inbound_events_recover() == 1
