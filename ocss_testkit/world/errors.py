"""What can go wrong in the domain, independent of how it is reported on the wire.

The route table maps each of these to the status and reason phrase the docs show for
that endpoint (e.g. NotFound is `404 No such Google client.` on GET but
`404 No such client ID` on PUT, Google Data Client API).
"""


class DomainError(Exception):
    """Base class; the message is meant for a human reading a test failure."""


class NotFound(DomainError):
    pass


class Forbidden(DomainError):
    """The object exists but belongs to another user."""


class Conflict(DomainError):
    """The request clashes with existing state (e.g. GData user id already registered)."""


class Invalid(DomainError):
    """A well-formed request whose values the domain refuses (unknown model, timezone…)."""


class Unsupported(DomainError):
    """The operation exists but this object cannot do it (no server-initiated sync)."""
