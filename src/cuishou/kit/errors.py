"""Domain errors carry a stable code and an HTTP status; one handler renders them.

Nothing below the edge (CLI, API) raises framework exceptions or prints tracebacks:
services raise a :class:`CuishouError` subclass with a message a person can act on.
"""

from __future__ import annotations

from typing import Any


class CuishouError(Exception):
    """Base of every error a user may see."""

    code: str = "error"
    http_status: int = 400
    #: the command line's exit status for it (2: the input or the setup needs fixing)
    exit_code: int = 2

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, **self.details}


class InvalidInput(CuishouError):
    code = "invalid_input"
    http_status = 422


class NotFound(CuishouError):
    code = "not_found"
    http_status = 404


class Conflict(CuishouError):
    code = "conflict"
    http_status = 409


class UnreadableFile(CuishouError):
    """A file that cannot be read as a table at all; nothing was changed."""

    code = "unreadable_file"
    http_status = 422


class ConfigError(CuishouError):
    code = "config_error"
    http_status = 500


class StoreNotReady(CuishouError):
    code = "store_not_ready"
    http_status = 503


class StoreUnavailable(CuishouError):
    """The store cannot be reached or used: refused, down, a wrong password, no such
    database, a file that cannot be opened. An operational error, not a bug; the message
    names the store with its password masked. Exit status 69 (``EX_UNAVAILABLE``)."""

    code = "store_unavailable"
    http_status = 503
    exit_code = 69


class NotAuthenticated(CuishouError):
    """No credentials, a wrong password or an expired token (HTTP 401)."""

    code = "not_authenticated"
    http_status = 401


class PermissionDenied(CuishouError):
    """The user's role may not do this at all (HTTP 403).

    A record outside the user's scope is :class:`NotFound` instead, so ids do not leak.
    """

    code = "permission_denied"
    http_status = 403


class TooManyAttempts(CuishouError):
    """Login throttling (登录限流): too many failed attempts in the window (HTTP 429)."""

    code = "too_many_attempts"
    http_status = 429


class ContactRefused(CuishouError):
    """The compliance gate refused a contact (a field visit, a message): the details carry
    the gate's ``rules`` and, when waiting helps, ``next_allowed_at`` (HTTP 403)."""

    code = "contact_refused"
    http_status = 403
