"""The report tables as rows, for CSV and XLSX files and the command line: one definition each, so a
file, the page and `flask report` say the same thing."""

from flask_babel import format_date, format_decimal
from flask_babel import gettext as _

from outreach.auth.models import User
from outreach.geo.models import AdminUnit, Level
from outreach.labels import AGENCY_STATUS_LABELS, EXCLUSION_LABELS
from outreach.reports import services


def pct(share: float | None, digits: int = 2) -> str:
    """A share as a percentage written the reader's way (42,06% in Vietnamese)."""
    if share is None:
        return "—"
    return format_decimal(round(100 * share, digits), format="#,##0." + "0" * digits) + "%"


def format_points(change: float | None) -> str:
    """A change of rate in percentage points, with its sign: "+6,04 điểm %"."""
    if change is None:
        return "—"
    value = format_decimal(round(100 * change, 2), format="+#,##0.00;-#,##0.00")
    return _("%(value)s points", value=value)


def points_abs(change: float | None) -> str:
    """The size of a change in percentage points, for sentences that say "more" or "less" themselves."""
    if change is None:
        return "—"
    return _("%(value)s points", value=format_decimal(round(abs(100 * change), 2), format="#,##0.00"))


def points_short(change: float | None) -> str:
    """A signed change in points without the word, for narrow table columns (the header names the unit)."""
    if change is None:
        return "—"
    return format_decimal(round(100 * change, 2), format="+#,##0.00;-#,##0.00")


def figures_text(figures: services.Figures) -> str:
    """A rate never without its counts: 71.725 / 170.531 = 42,06%."""
    if not figures.has_data:
        return _("no data")
    return f"{format_decimal(figures.online)} / {format_decimal(figures.total)} = {pct(figures.rate)}"


def period_label(start, end, kind: str) -> str:
    if kind == "month":
        return format_date(start, "MM/yyyy")
    if kind == "quarter":
        return _("Q%(q)s/%(year)s", q=(start.month - 1) // 3 + 1, year=start.year)
    if kind == "year":
        return str(start.year)
    return f"{format_date(start, 'dd/MM/yyyy')}–{format_date(end, 'dd/MM/yyyy')}"


def ratio(value: float | None) -> float | str:
    """A share for a spreadsheet: a number of percent with 2 decimals, or empty for no data."""
    return "" if value is None else round(100 * value, 2)


def _counts() -> list[str]:
    return [
        _("Total dossiers"),
        _("Online"),
        _("Online rate (%)"),
        _("Fully online"),
        _("Partly online"),
        _("Paid online"),
    ]


def _figures_cells(f: services.Figures) -> list:
    return [f.total, f.online, ratio(f.rate), f.fully_online, f.partly_online, f.paid_online]


def unit_table(
    table: str,
    actor: User,
    unit: AdminUnit,
    period: services.Period,
    report: services.RateReport,
    ranked: list[services.RankedUnit],
    points: list[services.TrendPoint],
) -> tuple[list[str], list[list]] | None:
    """One of a unit's tables: rates, ranking, trend, or agencies (every figure with its file and line)."""
    counts = _counts()
    if table == "rates":
        rows = [[row.label, *_figures_cells(row.figures)] for row in report.rows]
        rows.append([_("Total"), *_figures_cells(report.total)])
        return [_("Unit or agency"), *counts], rows
    if table == "ranking":
        return [_("Rank"), _("Commune"), _("Code"), *counts], [
            [r.rank, r.unit.name, r.unit.code, *_figures_cells(r.figures)] for r in ranked
        ]
    if table == "trend":
        return [_("Period"), *counts], [
            [period_label(p.start, p.end, p.kind), *_figures_cells(p.figures)] for p in points
        ]
    if table == "agencies":
        return [_("Agency"), _("Code"), _("Unit"), *counts], [
            [agency.name, agency.code, _agency_unit(agency), *_figures_cells(f)] for agency, f in report.agencies
        ]
    if table == "periods":
        rows = [
            [
                r.agency,
                r.code,
                r.unit,
                format_date(r.start, "dd/MM/yyyy"),
                format_date(r.end, "dd/MM/yyyy"),
                *_figures_cells(r.figures),
                r.filename,
                r.line or "",
            ]
            for r in services.period_rows(actor, unit, period)
        ]
        return [_("Agency"), _("Code"), _("Unit"), _("From"), _("To"), *counts, _("File"), _("Line")], rows
    return None


def _agency_unit(agency) -> str:
    if agency.unit is not None:
        return agency.unit.name
    return str(AGENCY_STATUS_LABELS[agency.status])


def impact_table(report: services.ImpactReport, table: str = "impact") -> tuple[list[str], list[list]]:
    """The outreach-against-outcome table, or (``did``) each commune's change behind the estimate."""
    if table == "did":
        header = [_("Commune"), _("Group"), _("Rate before (%)"), _("Rate after (%)"), _("Change (points)")]
        if report.did is None:
            return header, []
        rows = [
            [
                c.unit.label,
                _("with outreach") if c.unit.treated else _("without outreach"),
                ratio(c.pre_rate),
                ratio(c.post_rate),
                ratio(c.change),
            ]
            for c in report.did.changes
        ]
        rows += [
            [e.unit.label, _("excluded"), "", "", str(EXCLUSION_LABELS.get(e.reason, e.reason))]
            for e in report.did.excluded
        ]
        return header, rows
    header = [
        _("Unit"),
        _("Code"),
        _("Households"),
        _("Households visited"),
        _("Visited (%)"),
        _("People helped"),
        _("Accounts activated"),
        _("Activated per 1,000 households"),
        _("Dossiers before"),
        _("Online before"),
        _("Rate before (%)"),
        _("Dossiers after"),
        _("Online after"),
        _("Rate after (%)"),
        _("Change (points)"),
    ]
    shown = report.commune_rows + report.rows if report.level == Level.VILLAGE else report.rows
    rows = [
        [
            r.unit.name,
            r.unit.code,
            r.households,
            r.visited,
            ratio(r.visited_share),
            r.people_helped,
            r.activated,
            "" if r.activated_per_1000 is None else round(r.activated_per_1000, 1),
            r.before.total,
            r.before.online,
            ratio(r.before.rate),
            r.after.total,
            r.after.online,
            ratio(r.after.rate),
            ratio(r.change),
        ]
        for r in shown
    ]
    return header, rows
