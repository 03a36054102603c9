"""A report as a Vietnamese administrative document: the national title and motto, the issuing body, the
number and date, the title ("Báo cáo kết quả hoạt động Tổ công nghệ số cộng đồng tháng MM/YYYY"), the
sections, the recipients ("Nơi nhận") and the signature.

Built once as plain data, in Vietnamese whatever the reader's language (it is an official document), and
written out by ``exports`` as DOCX and PDF, so both say the same thing."""

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import force_locale, format_decimal
from flask_babel import gettext as _

from outreach.activity import figures as counting
from outreach.activity.labels import STATUS_LABELS
from outreach.activity.services import ReportView
from outreach.clock import local_today
from outreach.geo.models import AdminUnit, Level
from outreach.labels import OBSTACLE_LABELS
from outreach.reports.tables import pct, points_abs

# The national title and motto head every administrative document; they are never translated.
NATIONAL_TITLE = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập - Tự do - Hạnh phúc"


@dataclass
class DocTable:
    header: list[str]
    rows: list[list[str]]
    total: list[str] | None = None
    text: bool = False  # columns of words (wrapped, equal widths after a narrow "No."), not figures


@dataclass
class DocSection:
    heading: str
    paragraphs: list[str] = field(default_factory=list)
    table: DocTable | None = None
    landscape: bool = False  # in the PDF, on a page of its own turned sideways (a wide table)


@dataclass
class ReportDocument:
    superior: str  # the body above the issuer ("UBND PHƯỜNG TÂN HÀ"), or ""
    issuer: str  # "TỔ CÔNG NGHỆ SỐ CỘNG ĐỒNG", "UBND HUYỆN HÀM YÊN"
    number: str  # "Số: 3/BC-TCNSCĐ"
    place_date: str  # "Tân Hà, ngày 28 tháng 11 năm 2026"
    title: str  # "BÁO CÁO"
    subject: str  # "Kết quả hoạt động Tổ công nghệ số cộng đồng tháng 11/2026"
    full_title: str  # "Báo cáo kết quả hoạt động Tổ công nghệ số cộng đồng tháng 11/2026"
    draft: bool
    sections: list[DocSection]
    recipients: list[str]
    signer_title: str
    signer_name: str
    national_title: str = NATIONAL_TITLE
    motto: str = MOTTO


def _n(value: int | None) -> str:
    return "—" if value is None else format_decimal(value)


def _lower_first(name: str) -> str:
    return name[:1].lower() + name[1:]


def _upper(text: str) -> str:
    return text.upper()


def _place_date(place: str, day: date) -> str:
    # Administrative dates: a day below 10, and January and February, are written with a leading zero.
    return _(
        "%(place)s, day %(day)s month %(month)s year %(year)s",
        place=place,
        day=f"{day.day:02d}",
        month=f"{day.month:02d}" if day.month < 3 else str(day.month),
        year=day.year,
    )


def _result_rows(figures: counting.Figures, reading: counting.Reading) -> list[list[str]]:
    rows: list[list[str]] = []
    number = 0
    for figure in counting.FIGURES:
        if figure.group not in ("team", "help", "guides", "sms", "requests"):
            continue
        value = figures.get(figure.key)
        if figure.key in counting.OPTIONAL_KEYS and value is None:
            continue  # not counted where the app keeps no such records
        if figure.key.startswith("helped_"):
            rows.append(["", f"- {figure.label}", _n(value)])
            if figure.key == "helped_60_plus" and reading.age_not_given:
                rows.append(["", "- " + _("age not recorded"), _n(reading.age_not_given)])
            continue
        number += 1
        rows.append([str(number), str(figure.label), _n(value)])
    return rows


def _obstacle_section(figures: counting.Figures) -> DocSection:
    section = DocSection(_("II. OBSTACLES RESIDENTS MET"))
    top = counting.top_obstacles(figures)
    if not top:
        section.paragraphs.append(_("No obstacle was recorded."))
        return section
    met = [_("%(what)s (%(n)s households)", what=OBSTACLE_LABELS[code], n=_n(count)) for code, count in top]
    section.paragraphs.append(_("Most often met: %(list)s.", list="; ".join(met)))
    rows = [
        [str(i), str(OBSTACLE_LABELS[key.removeprefix("obstacle.")]), _n(figures.get(key))]
        for i, key in enumerate((k for k in counting.OBSTACLE_KEYS if figures.get(k)), start=1)
    ]
    section.table = DocTable([_("No."), _("Obstacle"), _("Households")], rows)
    return section


def _rate_paragraphs(figures: counting.Figures, reading: counting.Reading, snapshot: dict[str, Any], months: int):
    if not figures.get("dossiers_total"):
        return [_("No statistics of dossiers received were imported for this period.")]
    text = [
        _(
            "The agencies of the area received %(total)s dossiers, %(online)s of them online: %(rate)s.",
            total=_n(figures.get("dossiers_total")),
            online=_n(figures.get("dossiers_online")),
            rate=pct(reading.rate),
        )
    ]
    change = reading.change
    if change is not None:
        text.append(
            _(
                "Previous period: %(rate)s, a rise of %(points)s.",
                rate=pct(reading.previous_rate),
                points=points_abs(change),
            )
            if change >= 0
            else _(
                "Previous period: %(rate)s, a fall of %(points)s.",
                rate=pct(reading.previous_rate),
                points=points_abs(change),
            )
        )
    target = pct(reading.target, 0)
    due = snapshot.get("target_due")
    by = _(" (due by %(day)s)", day=date.fromisoformat(due).strftime("%d/%m/%Y")) if due else ""
    gap = reading.gap
    if gap is not None and gap <= 0:
        text.append(_("The target of %(target)s%(by)s is reached.", target=target, by=by))
    elif gap is not None:
        needed = counting.online_needed_per_month(figures, reading.target, months)
        text.append(
            _(
                "The target of %(target)s%(by)s is %(points)s away: at this volume, about %(needed)s more online "
                "dossiers a month would reach it.",
                target=target,
                by=by,
                points=points_abs(gap),
                needed=_n(needed),
            )
        )
    return [" ".join(text)]


def _parts_section(view: ReportView, snapshot: dict[str, Any]) -> DocSection:
    section = DocSection(_("UNITS ADDED UP"))
    parts = snapshot.get("parts", [])
    missing = snapshot.get("missing", [])
    header = [
        _("No."), _("Unit"), _("Households reached"), _("People helped"), _("VNeID level 1"),
        _("Online / total dossiers"), _("Online rate"),
    ]  # fmt: skip

    def row(number: str, name: str, f: counting.Figures) -> list[str]:
        total, online = f.get("dossiers_total") or 0, f.get("dossiers_online") or 0
        return [
            number, name, _n(f.get("households_reached")), _n(f.get("people_helped")), _n(f.get("vneid_level1")),
            f"{_n(online)} / {_n(total)}", pct(online / total if total else None),
        ]  # fmt: skip

    rows = [row(str(i), p["name"], p["figures"]) for i, p in enumerate(parts, start=1)]
    section.table = DocTable(header, rows, row("", _("Total"), snapshot["figures"]))
    section.paragraphs.append(_("Reports approved: %(n)s of %(of)s.", n=len(parts), of=len(parts) + len(missing)))
    if missing:
        section.paragraphs.append(
            _(
                "Not counted (no approved report): %(list)s.",
                list="; ".join(f"{m['name']} ({STATUS_LABELS[m['status']]})" for m in missing),
            )
        )
    return section


def _issuer(unit: AdminUnit) -> tuple[str, str]:
    if unit.level == Level.COMMUNE:
        return _upper(_("PC %(unit)s", unit=unit.name)), _("COMMUNITY DIGITAL TECHNOLOGY TEAM")
    above = unit.parent.name if unit.parent is not None else ""
    return (_upper(_("PC %(unit)s", unit=above)) if above else ""), _upper(_("PC %(unit)s", unit=unit.name))


def build_document(view: ReportView, *, today: date | None = None) -> ReportDocument:
    """The report of ``view`` as an administrative document, in Vietnamese."""
    with force_locale("vi"):
        return _build(view, today or local_today())


def _build(view: ReportView, today: date) -> ReportDocument:
    unit, report, snapshot = view.unit, view.report, view.document
    figures, reading = view.shown, view.reading
    submitted = report is not None and report.is_submitted
    superior, issuer = _issuer(unit)
    kind = "TCNSCĐ" if unit.level == Level.COMMUNE else "UBND"
    number, day = "…", today
    if submitted and report is not None and report.submitted_at is not None:
        number, day = str(report.number or "…"), local_today(report.submitted_at)
    subject = _("Activity of the community digital technology team, %(period)s", period=view.period.title_words)
    if view.is_aggregate:
        subject += " " + _("in %(unit)s", unit=_lower_first(unit.name))
    sections = [DocSection(_("I. RESULTS OF THE TEAM'S WORK"), table=DocTable(
        [_("No."), _("What"), _("Count")], _result_rows(figures, reading)
    ))]  # fmt: skip
    if view.is_aggregate:
        sections.append(_parts_section(view, snapshot))
    sections.append(_obstacle_section(figures))
    sections.append(
        DocSection(
            _("III. ONLINE SUBMISSION OF DOSSIERS"),
            _rate_paragraphs(figures, reading, snapshot, view.period.months),
        )
    )
    no_note = _("no note.")
    note = [
        _("1. What went well: %(text)s", text=(report.went_well if report and report.went_well else no_note)),
        _("2. What blocked the work: %(text)s", text=(report.blocked if report and report.blocked else no_note)),
    ]
    sections.append(DocSection(_("IV. ASSESSMENT"), note))
    above = unit.parent
    recipients = []
    if above is not None:
        committee = _("PC %(unit)s", unit=_lower_first(above.name))
        recipients.append(_("- %(unit)s (to report);", unit=committee))
    recipients.append(_("- Filed: office."))
    signer = ""
    if submitted and report is not None and report.submitted_by is not None:
        signer = report.submitted_by.full_name or report.submitted_by.username
    return ReportDocument(
        superior=superior,
        issuer=issuer,
        number=_("No.: %(number)s/BC-%(kind)s", number=number, kind=kind),
        place_date=_place_date(unit.short_name or unit.name, day),
        title=_("REPORT"),
        subject=subject,
        full_title=_(
            "Report on the activity of the community digital technology team, %(period)s",
            period=view.period.title_words,
        ),
        draft=not submitted,
        sections=sections,
        recipients=recipients,
        signer_title=_("TEAM LEADER") if unit.level == Level.COMMUNE else _("PREPARED BY"),
        signer_name=signer,
    )
