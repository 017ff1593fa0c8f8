"""Slack's composite ids, built and read only here."""

from dataclasses import dataclass


@dataclass(frozen=True)
class SlackMessageRef:
    """A Slack message, as Rapport keys it: "team:channel:ts".

    A message's external id and a thread's key (the ts of its root) have this shape.
    """

    team_id: str
    channel_id: str
    ts: str

    @classmethod
    def parse(cls, value: str) -> "SlackMessageRef | None":
        """Read a "team:channel:ts" key; None for anything else."""
        parts = (value or "").split(":")
        if len(parts) != 3 or not all(parts):
            return None
        return cls(*parts)

    def __str__(self) -> str:
        return f"{self.team_id}:{self.channel_id}:{self.ts}"
