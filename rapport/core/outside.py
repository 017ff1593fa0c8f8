"""Failures of outside services (Slack, mail relays, webhooks), as every client reports them.

Each client maps its service's errors to one of these two, once; the outbox retries the
first with backoff (or after the service's Retry-After) and stops at the second.
"""


class OutsideUnavailable(Exception):
    """The service could not take the call now (rate limit, outage); try again later.

    `after` is the wait in seconds the service asked for (HTTP Retry-After), if it said.
    """

    def __init__(self, message: str, *, after: float | None = None) -> None:
        super().__init__(message)
        self.after = after


class OutsideRefused(Exception):
    """The service refused the call for good (bad token, unknown channel, bad payload).

    `code` is the service's own error code, when it gave one.
    """

    def __init__(self, message: str, *, code: str = "") -> None:
        super().__init__(message)
        self.code = code
