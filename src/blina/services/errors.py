"""Errors of the service layer, beside the domain's (``blina.domain.errors``).

- ``NotAuthenticated``: no valid session or token (401).
- ``PermissionDenied``: the actor may not do this (403); audited.
- ``NotFound``: no such record, or one the actor may not know exists (404).
- ``Conflict``: the record changed since it was read (409); nothing was written.
- ``LoginThrottled``: too many failed logins; try again later (429).
"""

from blina.domain.errors import BlinaError

__all__ = ["Conflict", "LoginThrottled", "NotAuthenticated", "NotFound", "PermissionDenied"]


class NotAuthenticated(BlinaError):
    pass


class PermissionDenied(BlinaError):
    pass


class NotFound(BlinaError):
    pass


class Conflict(BlinaError):
    pass


class LoginThrottled(BlinaError):
    pass
