"""A report's files: XLSX (one sheet per level, each with a total row that adds up; every text stays text),
DOCX (python-docx) and PDF (WeasyPrint, from the same document as the DOCX). Libraries are imported when a
file is asked for, so the pages never load them."""

import io
from typing import Any

from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from outreach.activity import figures as counting
from outreach.activity.document import ReportDocument
from outreach.activity.labels import STATUS_LABELS
from outreach.activity.services import ReportView
from outreach.csvio import write_xlsx_sheets
from outreach.labels import LEVEL_LABELS

# --- XLSX ------------------------------------------------------------------------------------------------


def _levels(snapshot: dict[str, Any]) -> list[list[dict[str, Any]]]:
    """The report's unit, then what it added up, then what those added up: one list per level."""
    root = {**snapshot["unit"], "figures": snapshot["figures"], "parts": snapshot.get("parts", [])}
    levels, current = [], [root]
    while current:
        levels.append(current)
        current = [part for entry in current for part in entry.get("parts", [])]
    return levels


def _rate(figures: counting.Figures) -> float | str:
    total = figures.get("dossiers_total") or 0
    return round(100 * (figures.get("dossiers_online") or 0) / total, 2) if total else ""


def _cells(figures: counting.Figures) -> list:
    return [("" if figures.get(key) is None else figures.get(key)) for key in counting.KEYS] + [_rate(figures)]


def xlsx_file(view: ReportView) -> bytes:
    """The report as a workbook: a sheet per level (the unit; the units it added up; theirs), each row a
    unit and its figures, and a total row (each level's total is the unit's own figures); then the
    units not counted and the note."""
    snapshot = view.document
    header = [_("Unit"), _("Code"), *(counting.label_of(key) for key in counting.KEYS), _("Online rate (%)")]
    sheets = []
    for entries in _levels(snapshot):
        rows = [[e["name"], e["code"], *_cells(e["figures"])] for e in entries]
        total = counting.add_up(e["figures"] for e in entries)
        rows.append([_("Total"), "", *_cells(total)])
        sheets.append((str(LEVEL_LABELS.get(entries[0]["level"], entries[0]["level"])), header, rows))
    if snapshot.get("missing"):
        sheets.append(
            (
                _("Not counted"),
                [_("Unit"), _("Code"), _("Report")],
                [[m["name"], m["code"], str(STATUS_LABELS[m["status"]])] for m in snapshot["missing"]],
            )
        )
    report = view.report
    note_rows = [
        [_("Period"), view.period.label],
        [_("Status"), str(STATUS_LABELS[view.status])],
        [_("What went well"), report.went_well if report else ""],
        [_("What blocked the work"), report.blocked if report else ""],
    ]
    if report is not None and report.review_comment:
        note_rows.append([_("Comment of the level above"), report.review_comment])
    sheets.append((_("Note"), [_("Item"), _("Text")], note_rows))
    out = io.BytesIO()
    write_xlsx_sheets(sheets, out)
    return out.getvalue()


# --- DOCX ------------------------------------------------------------------------------------------------

FONT = "Times New Roman"


def docx_file(document: ReportDocument) -> bytes:
    """The document for Word: A4, Times New Roman 13 pt, the margins of administrative documents."""
    with force_locale("vi"):  # an official document, in Vietnamese whatever the reader's language
        return _docx(document)


def _docx(document: ReportDocument) -> bytes:
    from docx import Document
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    doc = Document()
    doc.core_properties.title = document.full_title
    doc.core_properties.language = "vi-VN"
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(20), Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(15)
    style = doc.styles["Normal"]
    style.font.name, style.font.size = FONT, Pt(13)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)

    def line(cell_or_doc, text: str, *, bold=False, italic=False, underline=False, size=13, align="center"):
        paragraph = cell_or_doc.add_paragraph()
        paragraph.alignment = {
            "center": WD_ALIGN_PARAGRAPH.CENTER,
            "left": WD_ALIGN_PARAGRAPH.LEFT,
            "right": WD_ALIGN_PARAGRAPH.RIGHT,
            "justify": WD_ALIGN_PARAGRAPH.JUSTIFY,
        }[align]
        paragraph.paragraph_format.space_after = Pt(2)
        run = paragraph.add_run(text)
        run.bold, run.italic, run.underline, run.font.size = bold, italic, underline, Pt(size)
        return paragraph

    head = doc.add_table(rows=1, cols=2)
    head.alignment = WD_TABLE_ALIGNMENT.CENTER
    left, right = head.rows[0].cells
    left.width, right.width = Mm(70), Mm(95)
    for cell in (left, right):
        cell.paragraphs[0].text = ""
    if document.superior:
        line(left, document.superior, size=12)
    line(left, document.issuer, bold=True, underline=True, size=12)
    line(left, document.number, size=13)
    line(right, document.national_title, bold=True, size=12)
    line(right, document.motto, bold=True, underline=True, size=13)
    line(right, document.place_date, italic=True, size=13)
    if document.draft:
        line(doc, _("DRAFT: not submitted"), bold=True, size=12)
    line(doc, document.title, bold=True, size=14)
    line(doc, document.subject, bold=True, size=14)
    for part in document.sections:
        line(doc, part.heading, bold=True, align="left")
        for text in part.paragraphs:
            line(doc, text, align="justify")
        if part.table is not None:
            rows = part.table.rows + ([part.table.total] if part.table.total else [])
            table = doc.add_table(rows=1 + len(rows), cols=len(part.table.header))
            table.style = "Table Grid"
            for cell, text in zip(table.rows[0].cells, part.table.header, strict=True):
                cell.text = ""
                cell.paragraphs[0].add_run(text).bold = True
            for row, values in zip(table.rows[1:], rows, strict=True):
                for cell, text in zip(row.cells, values, strict=True):
                    cell.text = text
            if part.table.total:
                for cell in table.rows[-1].cells:
                    for run in cell.paragraphs[0].runs:
                        run.bold = True
    foot = doc.add_table(rows=1, cols=2)
    left, right = foot.rows[0].cells
    left.paragraphs[0].text = ""
    line(left, _("Recipients:"), bold=True, italic=True, size=12, align="left")
    for text in document.recipients:
        line(left, text, size=11, align="left")
    right.paragraphs[0].text = ""
    line(right, document.signer_title, bold=True)
    line(right, "\n\n")
    line(right, document.signer_name, bold=True)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


# --- PDF -------------------------------------------------------------------------------------------------


def _no_fetching(url: str, *args, **kwargs):
    raise ValueError(f"the report's PDF fetches nothing ({url})")


def pdf_file(document: ReportDocument) -> bytes:
    """The document as a PDF, drawn by WeasyPrint from an HTML page with its own styles (fonts of the
    system: Times New Roman, else Liberation Serif or DejaVu Serif, which hold Vietnamese). Nothing is
    fetched."""
    from weasyprint import HTML

    with force_locale("vi"):
        html = render_template("activity/document.html", document=document)
    return HTML(string=html, url_fetcher=_no_fetching).write_pdf()
