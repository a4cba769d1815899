"""The moderation app's refusal (a ServiceError the API and pages show like any other)."""

from facecommons.common.errors import ServiceError


class ModerationError(ServiceError):
    """A refused moderation action."""
