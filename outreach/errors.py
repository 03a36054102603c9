"""Errors raised by services and turned into pages or JSON at the boundary."""


class NotFound(LookupError):
    """Missing, or outside the actor's scope: both look the same from outside."""


class Forbidden(PermissionError):
    """The actor's role may not do this."""


class ValidationError(ValueError):
    """Input a person must fix. ``errors`` maps a field (or "row N") to messages."""

    def __init__(self, errors: dict[str, list[str]] | str):
        if isinstance(errors, str):
            errors = {"": [errors]}
        self.errors = errors
        super().__init__(
            "; ".join(f"{k}: {' '.join(map(str, v))}" if k else " ".join(map(str, v)) for k, v in errors.items())
        )
