"""Web chat's composite ids, built and read only here."""

from dataclasses import dataclass

from rapport.core.query_params import params_whole


@dataclass(frozen=True)
class ChatMessageRef:
    """A visitor's message, as Rapport keys it: "site:visitor token digest:client id".

    The widget draws the client id itself, so a message it sends twice is stored once.
    """

    site_id: int
    visitor_digest: str
    client_message_id: str

    @classmethod
    def parse(cls, value: str) -> "ChatMessageRef | None":
        """Read a web chat message key; None for anything else (a team reply's id)."""
        site, _, rest = (value or "").partition(":")
        digest, _, client_id = rest.partition(":")
        site_id = params_whole(site)
        if site_id is None or not digest or not client_id:
            return None
        return cls(site_id, digest, client_id)

    def __str__(self) -> str:
        return f"{self.site_id}:{self.visitor_digest}:{self.client_message_id}"


@dataclass(frozen=True)
class ChatThreadRef:
    """A visitor's conversation within the web chat source: "webchat:<visitor id>"."""

    visitor_id: int

    @classmethod
    def parse(cls, value: str) -> "ChatThreadRef | None":
        prefix, _, visitor = (value or "").partition(":")
        visitor_id = params_whole(visitor)
        return cls(visitor_id) if prefix == "webchat" and visitor_id is not None else None

    def __str__(self) -> str:
        return f"webchat:{self.visitor_id}"
