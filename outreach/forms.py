"""What every area's forms share: a service's errors shown beside the fields they name."""

from flask import flash

from outreach.errors import ValidationError


def show_form_errors(form, exc: ValidationError, *, fields: dict[str, str] | None = None) -> None:
    """Put a service's errors next to the form's fields; the others (a row, the whole form) flash."""
    for name, messages in exc.errors.items():
        field = getattr(form, (fields or {}).get(name, name), None) if name else None
        if field is not None:
            field.errors = list(field.errors) + [str(m) for m in messages]
        else:
            for message in messages:
                flash(str(message), "error")
