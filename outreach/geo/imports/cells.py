"""Reading one cell: numbers, whole numbers, yes and no, in Vietnamese or English."""

from collections.abc import Callable
from typing import TypeVar

from flask_babel import gettext as _

from outreach.geo.imports.columns import COLUMN_LABELS
from outreach.text import fold

_YES = {"1", "x", "yes", "y", "true", "co", "dong y", "da dong y", "ok"}
_NO = {"", "0", "no", "n", "false", "khong", "khong dong y"}


def number(value: str) -> float | None:
    """A decimal number, with a point or a comma; None for an empty cell."""
    return float(value.replace(",", ".")) if value != "" else None


def whole_number(value: str) -> int | None:
    return int(value) if value != "" else None


_N = TypeVar("_N", int, float)


def parsed(row: dict[str, str], column: str, problems: list[str], parse: Callable[[str], _N | None]) -> _N | None:
    try:
        return parse(row.get(column, ""))
    except ValueError:
        problems.append(_("%(column)s: “%(value)s” is not a number", column=COLUMN_LABELS[column], value=row[column]))
        return None


def yes_no(row: dict[str, str], column: str, problems: list[str]) -> bool | None:
    answer = yes(row.get(column, ""))
    if answer is None:
        problems.append(
            _("%(column)s: write “có” or “không”, not “%(value)s”", column=COLUMN_LABELS[column], value=row[column])
        )
    return answer


def yes(value: str) -> bool | None:
    folded = fold(value)
    if folded in _YES:
        return True
    if folded in _NO:
        return False
    return None
