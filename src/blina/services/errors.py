"""Errors of the service layer, beside the domain's (``blina.domain.errors``).

- ``NotAuthenticated``: no valid session or token (401).
- ``PermissionDenied``: the actor may not do this (403); audited.
- ``NotFound``: no such record, or one the actor may not know exists (404).
- ``Conflict``: the record changed since it was read (409); nothing was written.
- ``Throttled``: too many requests; try again after ``retry_after`` seconds (429).

  - ``LoginThrottled``: too many failed logins; ``LoginBusy``: too many logins at once
    in this process, try again in a moment.
  - ``CheckInsThrottled``: too many check-ins of one patient within the hour (one that
    alerts the care team is never refused).
"""

from blina.domain.errors import BlinaError

__all__ = [
    "CheckInsThrottled",
    "Conflict",
    "LoginBusy",
    "LoginThrottled",
    "NotAuthenticated",
    "NotFound",
    "PermissionDenied",
    "Throttled",
]


class NotAuthenticated(BlinaError):
    pass


class PermissionDenied(BlinaError):
    pass


class NotFound(BlinaError):
    pass


class Conflict(BlinaError):
    pass


class Throttled(BlinaError):
    """Too many requests of one kind; try again after ``retry_after`` seconds (429)."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class LoginThrottled(Throttled):
    pass


class CheckInsThrottled(Throttled):
    pass


class LoginBusy(LoginThrottled):
    pass
