"""A file's own total rows: recognised by their label, skipped, and checked against the rows imported.

A total row is known by what its label cell says ("Tổng cộng", "Cộng:", "Tổng cấp xã", "Total"), never by
a name that merely starts alike: "Công an tỉnh" and "Công ty Điện lực" are agencies, "Tổng cục Thuế" too.
Written with diacritics, a label is read with them ("Cộng" is not "Công"). Written without any ("Cong",
"Tong cong"), the label must be a total word and nothing else but a scope ("cap xa", "toan tinh"): "Cong
an tinh" is a total word followed by an agency's name, so an agency.

Checking is pure arithmetic over the rows read (no database): the file's total for a period (or for the
whole file) against the sum of the rows imported for it, and, when they differ, the rows that explain it.
"""

import re
from dataclasses import dataclass, field
from datetime import date
from enum import IntEnum

from flask_babel import format_decimal
from flask_babel import gettext as _

from outreach.csvio import line_label
from outreach.errors import ValidationError
from outreach.reports.imports.rows import StatRow
from outreach.text import clean, fold

Period = tuple[str, date, date]  # (kind, start, end), as parse_period gives it


class TotalKind(IntEnum):
    """How sure a label is to be the file's grand total; a tie-breaker when a file has several."""

    SUBTOTAL = 1  # "Tổng cấp xã", "Subtotal", "Cấp huyện": a group's sum
    TOTAL = 2  # "Cộng": a group's sum or the whole file's, as the file is laid out
    GRAND = 3  # "Tổng cộng", "Tổng số", "Total", "Toàn tỉnh": the whole file's (or the period's)


# Total words as written, longest first; each with the kind of total it names on its own.
_TOTAL_WORDS: tuple[tuple[tuple[str, ...], TotalKind], ...] = (
    (("tổng", "cộng"), TotalKind.GRAND),
    (("tổng", "số"), TotalKind.GRAND),
    (("grand", "total"), TotalKind.GRAND),
    (("toàn", "tỉnh"), TotalKind.GRAND),
    (("sub", "total"), TotalKind.SUBTOTAL),
    (("tổng",), TotalKind.GRAND),
    (("total",), TotalKind.GRAND),
    (("cộng",), TotalKind.TOTAL),
    (("subtotal",), TotalKind.SUBTOTAL),
)
# What may follow a total word in a label: the part of the file it sums. A group ("cấp xã", "khối sở
# ngành", "các xã", "nhóm I") makes it a subtotal; the whole ("toàn tỉnh", "chung") or a period does not.
_GROUP_WORDS = ("cấp", "khối", "các", "nhóm")
_WHOLE_WORDS = ("toàn", "chung", "tháng", "quý", "năm", "kỳ", "all")
_MARKERS = re.compile(r"^(?:[ivx]{1,4}|[a-dđ]|\d{1,4})$")  # "Cộng I", "Tổng cộng (I+II)", "Cộng A"
_LEVELS = ("xã", "huyện", "tỉnh", "phường", "thị")  # "Cấp xã", "Cấp huyện" alone: a group's row


_FIRST_LETTER = re.compile(r"[^\W\d_]")


def _words(text: str) -> list[str]:
    return re.findall(r"[^\W_]+", re.sub(r"\(.*?\)|\[.*?\]", " ", clean(text)).lower())


def _scope(rest: list[str], as_written: bool) -> TotalKind | None:
    """What the words after a total word say: a group (subtotal), the whole, or an agency's name (None)."""
    if not rest:
        return TotalKind.GRAND
    first = rest[0] if as_written else fold(rest[0])
    if first in (_GROUP_WORDS if as_written else tuple(fold(w) for w in _GROUP_WORDS)):
        return TotalKind.SUBTOTAL
    if first in (_WHOLE_WORDS if as_written else tuple(fold(w) for w in _WHOLE_WORDS)):
        return TotalKind.GRAND
    if all(_MARKERS.match(word) for word in rest):
        return TotalKind.SUBTOTAL
    return None


def total_label(text: str) -> TotalKind | None:
    """Whether a label cell names a total or subtotal row, and which; None for anything else (an agency).

    >>> total_label("Tổng cộng"), total_label("Cộng:"), total_label("Công an tỉnh"), total_label("Cong an tinh")
    (<TotalKind.GRAND: 3>, <TotalKind.TOTAL: 2>, None, None)
    """
    first = _FIRST_LETTER.search(text)
    if first is None or fold(first.group()) not in "tcsg":  # every total word starts so: most names stop here
        return None
    words = _words(text)
    if not words:
        return None
    folded = [fold(w) for w in words]
    as_written = folded != words  # written with diacritics: read with them
    compared = words if as_written else folded
    if compared[0] == ("cấp" if as_written else "cap") and len(compared) > 1:
        levels = _LEVELS if as_written else tuple(fold(w) for w in _LEVELS)
        return TotalKind.SUBTOTAL if compared[1] in levels else None
    for phrase, kind in _TOTAL_WORDS:
        wanted = list(phrase) if as_written else [fold(w) for w in phrase]
        if compared[: len(wanted)] != wanted:
            continue
        scope = _scope(words[len(wanted) :], as_written)
        if scope is None:
            continue  # "Tổng công ty ...": try the shorter word, then give up (an agency)
        if scope == TotalKind.SUBTOTAL or kind == TotalKind.SUBTOTAL:
            return TotalKind.SUBTOTAL
        return kind
    return None


@dataclass(frozen=True)
class FileTotal:
    """A total or subtotal row as the file writes it; its counts are None when its cells are empty."""

    line: int
    label: str
    kind: TotalKind
    period: Period | None  # None: the row names no period, so it sums the whole file
    total: int | None
    online: int | None
    unreadable: str = ""  # a count that is not a number ("=SUM(D5:D9)"): not compared, and said so

    @property
    def comparable(self) -> bool:
        return self.total is not None and self.online is not None and not self.unreadable

    @property
    def counts(self) -> tuple[int, int]:
        """Total and online, for a comparable row."""
        return self.total or 0, self.online or 0


@dataclass(frozen=True)
class Explanation:
    """A row that may explain a difference: one skipped as a total whose counts are the shortfall
    ("skipped"), one imported whose counts are the excess ("imported"), or a subtotal that is not the
    sum of the rows beside it ("group")."""

    kind: str
    line: int
    label: str
    total: int
    online: int
    first: int = 0  # "group": the lines of the rows beside it
    last: int = 0


@dataclass
class TotalCheck:
    """The file's total for a period (or the whole file) against the rows imported for it."""

    period: Period | None
    compared: list[FileTotal]  # the grand total, or the subtotals added up when the file has no grand total
    file_total: int
    file_online: int
    imported_total: int
    imported_online: int
    rows: int
    skipped: list[FileTotal] = field(default_factory=list)  # the scope's other total rows
    explanations: list[Explanation] = field(default_factory=list)

    @property
    def matches(self) -> bool:
        return (self.file_total, self.file_online) == (self.imported_total, self.imported_online)


def _sum(items: list[FileTotal] | list[StatRow]) -> tuple[int, int]:
    pairs = [item.counts if isinstance(item, FileTotal) else (item.total, item.online) for item in items]
    return sum(t for t, _o in pairs), sum(o for _t, o in pairs)


def _in(period: Period | None, row: StatRow) -> bool:
    return period is None or (period[1] <= row.start and row.end <= period[2])


def _compared(group: list[FileTotal]) -> list[FileTotal]:
    """Which of a period's total rows is its total: the one that is the sum of the others, else the one
    surest by its label, else (subtotals only) all of them added up."""
    if len(group) == 1:
        return group
    whole = _sum(group)
    sums = [t for t in group if (2 * t.counts[0], 2 * t.counts[1]) == whole]
    if sums:
        return [max(sums, key=lambda t: t.kind)]
    for kinds in ((TotalKind.GRAND,), (TotalKind.GRAND, TotalKind.TOTAL)):
        surest = [t for t in group if t.kind in kinds]
        if len(surest) == 1:
            return surest
    return group


def check_totals(totals: list[FileTotal], rows: list[StatRow]) -> list[TotalCheck]:
    """Each period's total (or the whole file's) as the file writes it, against the sum of the rows
    imported for it. A total row of a period sums that period's rows; one without a period, every row.
    Total rows that sum the same rows (a file of one month with "Cộng 09/2026" and "Tổng cộng") are
    one check."""
    scopes: dict[tuple[int, ...], list[FileTotal]] = {}
    for total in totals:
        if total.comparable:
            covered = tuple(row.line for row in rows if _in(total.period, row))
            scopes.setdefault(covered, []).append(total)
    checks = []
    for group in scopes.values():
        period = group[0].period
        in_scope = [row for row in rows if _in(period, row)]
        compared = _compared(group)
        file_total, file_online = _sum(compared)
        imported_total, imported_online = _sum(in_scope)
        check = TotalCheck(
            compared[0].period,
            compared,
            file_total,
            file_online,
            imported_total,
            imported_online,
            len(in_scope),
            [t for t in group if t not in compared],
        )
        if not check.matches:
            check.explanations = _explain(check, group, totals, in_scope)
        checks.append(check)
    return checks


def _explain(
    check: TotalCheck, group: list[FileTotal], totals: list[FileTotal], in_scope: list[StatRow]
) -> list[Explanation]:
    short = (check.file_total - check.imported_total, check.file_online - check.imported_online)
    found = []
    if short[0] >= 0 and short[1] >= 0:  # fewer imported than the file says: a row skipped that counts?
        found += [
            Explanation("skipped", t.line, t.label, *t.counts)
            for t in totals
            if t.comparable and t not in check.compared and t.counts == short
        ]
    if short[0] <= 0 and short[1] <= 0:  # more imported: a row counted twice, or a total taken for an agency?
        found += [
            Explanation("imported", row.line, row.agency.name, row.total, row.online)
            for row in in_scope
            if (row.total, row.online) == (-short[0], -short[1])
        ]
    # A subtotal that is not the sum of the rows beside it (above or below, as files put them) says
    # which group the difference is in.
    if len(group) > 1 or check.compared != group:
        lines = sorted(t.line for t in totals)
        named = {item.line for item in found}
        for total in group:
            if (total in check.compared and len(check.compared) == 1) or total.line in named:
                continue  # the grand total, compared above, or a row already named
            before = [n for n in lines if n < total.line]
            after = [n for n in lines if n > total.line]
            above = [r for r in in_scope if (before[-1] if before else 0) < r.line < total.line]
            below = [r for r in in_scope if total.line < r.line < (after[0] if after else float("inf"))]
            sides = [side for side in (above, below) if side]
            if not sides or any(_sum(side) == total.counts for side in sides):
                continue
            nearest = min(sides, key=lambda side: abs(_sum(side)[0] - total.counts[0]))
            found.append(
                Explanation("group", total.line, total.label, *_sum(nearest), nearest[0].line, nearest[-1].line)
            )
    return found


# --- Saying it -------------------------------------------------------------------------------------------


def _counts(total: int, online: int) -> str:
    return _("%(total)s dossiers, %(online)s online", total=format_decimal(total), online=format_decimal(online))


def _labels(totals: list[FileTotal]) -> str:
    return "; ".join(f"{line_label(t.line)} “{t.label}”" for t in totals)


def said_at(check: TotalCheck, period_text) -> list[tuple[int | None, str]]:
    """The check in words, each sentence with the line it is about (None: several lines, named in it).
    The first sentence says whether the file's total matches; the next ones what may explain a
    difference. ``period_text(kind, start, end)`` writes a period."""
    if len(check.compared) == 1:
        line, where = check.compared[0].line, f"“{check.compared[0].label}”"
    else:
        line, where = None, _labels(check.compared)
    if check.period is not None:
        where = f"{where} ({period_text(*check.period)})"
    if check.matches:
        return [
            (
                line,
                _(
                    "%(where)s: the file's total %(total)s / %(online)s matches the %(rows)s rows imported.",
                    where=where,
                    total=format_decimal(check.file_total),
                    online=format_decimal(check.file_online),
                    rows=format_decimal(check.rows),
                ),
            )
        ]
    said: list[tuple[int | None, str]] = [
        (
            line,
            _(
                "%(where)s: the file's total is %(file)s, but the %(rows)s rows imported add up to %(imported)s "
                "(a difference of %(difference)s).",
                where=where,
                file=_counts(check.file_total, check.file_online),
                rows=format_decimal(check.rows),
                imported=_counts(check.imported_total, check.imported_online),
                difference=_counts(check.file_total - check.imported_total, check.file_online - check.imported_online),
            ),
        )
    ]
    for item in check.explanations:
        counts = _counts(item.total, item.online)
        if item.kind == "skipped":
            text = _(
                "“%(label)s” was skipped as a total row and holds exactly the difference (%(counts)s): "
                "if it is an agency, write its full name.",
                label=item.label,
                counts=counts,
            )
        elif item.kind == "imported":
            text = _(
                "(%(agency)s) holds exactly the excess (%(counts)s): is it counted twice, or a total taken for "
                "an agency?",
                agency=item.label,
                counts=counts,
            )
        else:
            text = _(
                "“%(label)s” is not the sum of the rows beside it (%(first)s to %(last)s: %(counts)s).",
                label=item.label,
                first=line_label(item.first),
                last=line_label(item.last),
                counts=counts,
            )
        said.append((item.line, text))
    if not check.explanations and check.skipped:
        said.append((None, _("Rows skipped as totals: %(rows)s.", rows=_labels(check.skipped))))
    return said


def describe(check: TotalCheck, period_text) -> list[str]:
    """The check in sentences that each name their line (for the import's result and the command line)."""
    return [f"{line_label(line)} {text}" if line else text for line, text in said_at(check, period_text)]


class TotalsMismatch(ValidationError):
    """The file's own total differs from the rows imported: refused unless a person confirms it."""

    def __init__(self, checks: list[TotalCheck], period_text):
        self.checks = checks
        errors: dict[str, list[str]] = {}
        for check in checks:
            if not check.matches:
                for line, text in said_at(check, period_text):
                    errors.setdefault(line_label(line) if line else "", []).append(text)
        errors.setdefault("", []).append(
            _(
                "The file's total does not match its rows. Check the rows named; if the file's own total is "
                "what is wrong, confirm the difference and import it again."
            )
        )
        super().__init__(errors)
