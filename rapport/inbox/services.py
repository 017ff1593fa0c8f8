"""Writes for channels."""

from django.db import transaction

from rapport.accounts.models import Account
from rapport.audit.services import audit_record
from rapport.errors import InvalidInput
from rapport.inbox.models import Channel
from rapport.users.models import User
from rapport.users.services import user_require_admin


@transaction.atomic
def channel_create(
    *, slack_team_id: str, slack_channel_id: str, name: str, is_private: bool = False
) -> Channel:
    """Register a Slack channel, or return it if it is known."""
    if not slack_team_id or not slack_channel_id:
        raise InvalidInput("A Slack channel needs a team id and a channel id.")
    channel, _ = Channel.objects.get_or_create(
        slack_team_id=slack_team_id,
        slack_channel_id=slack_channel_id,
        defaults={"name": name.lstrip("#"), "is_private": is_private},
    )
    return channel


@transaction.atomic
def channel_set_accounts(*, actor: User | None, channel: Channel, accounts: list[Account]) -> None:
    """Link *channel* to exactly *accounts*."""
    if actor is not None:
        user_require_admin(actor, "link Slack channels to accounts")
    before = sorted(channel.accounts.values_list("pk", flat=True))
    channel.accounts.set(accounts)
    after = sorted(a.pk for a in accounts)
    audit_record(
        actor=actor,
        action="channel.link_accounts",
        obj=channel,
        changes={"accounts": {"before": before, "after": after}} if before != after else {},
    )
