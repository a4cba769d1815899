"""The one error type services raise (HackSoft's ``ApplicationError``).

A service refuses a request by raising :class:`ServiceError` (or a subclass that names its
domain, so a caller can catch only, say, moderation refusals). The API's exception handler
(``facecommons.common.api.exception_handler``) turns every one into
``{"error": {"code", "message", "fields"?}}`` with ``status``; HTML views show ``message``.
No app translates errors to HTTP by hand.
"""

from __future__ import annotations


class ServiceError(Exception):
    """A refused request: machine ``code``, human ``message``, per-field messages, HTTP status."""

    def __init__(self, code: str, message: str, *, fields: dict[str, list[str]] | None = None,
                 status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.fields = fields
        self.status = status

    def __str__(self) -> str:
        return self.message
