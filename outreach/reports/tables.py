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
    """The counts as cells; a part no file gave is an empty cell (the note column says so), never 0."""
    return [
        f.total,
        f.online,
        ratio(f.rate),
        *("" if getattr(f, part) is None else getattr(f, part) for part, _whole in services.PARTS),
    ]


def _whole_names() -> dict[str, str]:
    return {"online": _("online dossiers"), "total": _("dossiers")}


def parts_note(f: services.Figures) -> str:
    """What the fully/partly/paid online figures leave out: not given by any file, or given for only
    some of the dossiers ("fully and partly online: given for 512 of the 600 online dossiers")."""
    if not f.has_data:
        return ""
    wholes = _whole_names()
    status = {}
    for part, _whole in services.PARTS:
        known, of = f.coverage(part)
        status[part] = "none" if getattr(f, part) is None else (known, of) if known < of else None
    groups = [(_("paid online"), "total", status["paid_online"])]
    if status["fully_online"] == status["partly_online"]:
        groups.insert(0, (_("fully and partly online"), "online", status["fully_online"]))
    else:
        groups[:0] = [
            (_("fully online"), "online", status["fully_online"]),
            (_("partly online"), "online", status["partly_online"]),
        ]
    said = []
    for name, whole, state in groups:
        if state == "none":
            said.append(_("%(part)s: not in the files imported (unknown, not zero)", part=name))
        elif state is not None:
            said.append(
                _(
                    "%(part)s: given for %(known)s of the %(of)s %(whole)s",
                    part=name,
                    known=format_decimal(state[0]),
                    of=format_decimal(state[1]),
                    whole=wholes[whole],
                )
            )
    return "; ".join(said)


def part_text(f: services.Figures, part: str) -> str:
    """A part as a page shows it: "—" when no file gave it (unknown, not 0), else its sum; ``parts_note``
    says how much a sum covers."""
    value = getattr(f, part)
    return "—" if value is None else format_decimal(value)


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
    note = _("Note (fully, partly, paid online)")
    if table == "rates":
        rows = [[row.label, *_figures_cells(row.figures), parts_note(row.figures)] for row in report.rows]
        rows.append([_("Total"), *_figures_cells(report.total), parts_note(report.total)])
        return [_("Unit or agency"), *counts, note], rows
    if table == "ranking":
        return [_("Rank"), _("Commune"), _("Code"), *counts, note], [
            [r.rank, r.unit.name, r.unit.code, *_figures_cells(r.figures), parts_note(r.figures)] for r in ranked
        ]
    if table == "trend":
        return [_("Period"), *counts, note], [
            [period_label(p.start, p.end, p.kind), *_figures_cells(p.figures), parts_note(p.figures)] for p in points
        ]
    if table == "agencies":
        return [_("Agency"), _("Code"), _("Unit"), *counts, note], [
            [agency.name, agency.code, _agency_unit(agency), *_figures_cells(f), parts_note(f)]
            for agency, f in report.agencies
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
                parts_note(r.figures),
            ]
            for r in services.period_rows(actor, unit, period)
        ]
        return [_("Agency"), _("Code"), _("Unit"), _("From"), _("To"), *counts, _("File"), _("Line"), note], rows
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
