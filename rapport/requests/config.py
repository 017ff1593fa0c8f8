"""The request settings in effect for a channel: its overrides over the workspace's."""

from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import Any

from rapport.inbox.models import Channel
from rapport.requests.models import ChannelRequestSettings, RequestSettings
from rapport.requests.specs import CHANNEL_FIELDS


@dataclass(frozen=True)
class RequestConfig:
    """Every request setting, resolved for one channel (or for none)."""

    detection_enabled: bool
    detection_mode: str
    grouping_window_seconds: int
    assign_first_responder: bool
    assign_csm: bool
    dm_assignee: bool
    emoji_enabled: bool
    emoji_assigned: str
    emoji_closed: str
    status_updates: bool
    auto_close_days: int
    nudge_after_hours: int
    csat_enabled: bool
    triage_channel_id: str
    ticket_address: str


def request_settings_get() -> RequestSettings:
    """Return the workspace's request settings, created with the defaults on first use."""
    settings, _ = RequestSettings.objects.get_or_create(pk=1)
    return settings


def request_config_resolve(
    workspace: RequestSettings, overrides: ChannelRequestSettings | None
) -> RequestConfig:
    """Combine the workspace's settings with a channel's overrides (None inherits)."""
    values = {f.name: getattr(workspace, f.name) for f in fields(RequestConfig)}
    if overrides is not None:
        for name in CHANNEL_FIELDS:
            value = getattr(overrides, name)
            if value is not None:
                values[name] = value
    return RequestConfig(**values)


class RequestConfigCache:
    """Resolved settings per channel, read once per batch of work."""

    def __init__(self) -> None:
        self.workspace = request_settings_get()
        self._by_channel: dict[int | None, RequestConfig] = {}
        self._sla_policies: dict[str, Any] | None = None

    @property
    def sla_policies(self) -> dict[str, Any]:
        """The SLA policies by tier, read once per batch."""
        if self._sla_policies is None:
            from rapport.metrics.sla import sla_policies_load

            self._sla_policies = dict(sla_policies_load())
        return self._sla_policies

    def preload(self, channel_ids: Iterable[int | None]) -> None:
        """Resolve the settings of *channel_ids* at once: one query for their overrides."""
        wanted = {pk for pk in channel_ids if pk is not None and pk not in self._by_channel}
        if not wanted:
            return
        overrides = {
            row.channel_id: row
            for row in ChannelRequestSettings.objects.filter(channel_id__in=sorted(wanted))
        }
        for pk in wanted:
            self._by_channel[pk] = request_config_resolve(self.workspace, overrides.get(pk))

    def for_channel(self, channel_id: int | None) -> RequestConfig:
        if channel_id not in self._by_channel:
            overrides = (
                ChannelRequestSettings.objects.filter(channel_id=channel_id).first()
                if channel_id is not None
                else None
            )
            self._by_channel[channel_id] = request_config_resolve(self.workspace, overrides)
        return self._by_channel[channel_id]


def request_config_for(channel: Channel | None) -> RequestConfig:
    """Return the settings in effect for *channel* (the workspace's for no channel)."""
    return RequestConfigCache().for_channel(channel.pk if channel else None)
