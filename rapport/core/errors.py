"""Errors raised by services; the API and the web UI turn them into answers."""


class ServiceError(Exception):
    """Base error with a message a person can act on."""

    status = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(ServiceError):
    status = 400


class PermissionDenied(ServiceError):
    status = 403


class NotFound(ServiceError):
    status = 404


class Conflict(ServiceError):
    status = 409


class TooManyRequests(ServiceError):
    """Refused for a while; `retry_after` is how many seconds until the caller may retry."""

    status = 429

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
