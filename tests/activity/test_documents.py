"""The files of a report: the DOCX and the PDF in the layout of a Vietnamese administrative report, read
back (python-docx; the PDF's text with pdftotext and its first page drawn to PNG with pdftoppm, as a
person would see it), and the XLSX with a sheet per level whose totals add up and no cell a spreadsheet
would run."""

import io
import os
import shutil
import subprocess

import pytest
from docx import Document
from openpyxl import load_workbook
from PIL import Image

from outreach.activity.document import build_document
from outreach.activity.periods import parse_period
from outreach.activity.services import approve_report, report_view, submit_report
from outreach.extensions import db
from tests.activity.conftest import PERIOD
from tests.conftest import NOW, login

NOVEMBER = parse_period(PERIOD)
TITLE = "Báo cáo kết quả hoạt động Tổ công nghệ số cộng đồng tháng 11/2026"
NOTE = '=HYPERLINK("http://evil","bấm vào đây")'


@pytest.fixture
def approved(geo, people, month):
    """Tân Hà's and Đội Cấn's November reports approved, the city's submitted."""
    today = NOW.date()
    tanha = submit_report(
        people["leader"],
        geo["tanha"],
        NOVEMBER,
        went_well=NOTE,
        blocked="Thiếu điện thoại thông minh",
        today=today,
        now=NOW,
    )
    doican = submit_report(
        people["leader_doican"], geo["doican"], NOVEMBER, went_well="", blocked="", today=today, now=NOW
    )
    for report in (tanha, doican):
        approve_report(people["staff"], report.id, now=NOW)
    city = submit_report(
        people["staff"], geo["city"], NOVEMBER, went_well="Hai phường", blocked="", today=today, now=NOW
    )
    db.session.commit()
    return {"tanha": tanha, "doican": doican, "city": city}


def docx_text(data: bytes) -> tuple[list[str], list[list[str]], str]:
    doc = Document(io.BytesIO(data))
    paragraphs = [p.text for p in doc.paragraphs]
    cells = []
    for table in doc.tables:
        for row in table.rows:
            cells.append([cell.text for cell in row.cells])
            for cell in row.cells:
                paragraphs += [p.text for p in cell.paragraphs]
    return paragraphs, cells, doc.core_properties.title


def test_the_docx_holds_the_layout_and_the_figures(client, geo, approved):
    login(client, "leader.tanha")
    response = client.get(f"/activity/units/{geo['tanha'].id}/download/docx?period={PERIOD}")
    assert response.status_code == 200 and response.mimetype.endswith("wordprocessingml.document")
    paragraphs, cells, title = docx_text(response.data)
    assert title == TITLE
    for line in (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "UBND PHƯỜNG TÂN HÀ",
        "TỔ CÔNG NGHỆ SỐ CỘNG ĐỒNG",
        "Số: 1/BC-TCNSCĐ",
        "Tân Hà, ngày 26 tháng 11 năm 2026",
        "BÁO CÁO",
        "Kết quả hoạt động Tổ công nghệ số cộng đồng tháng 11/2026",
        "Nơi nhận:",
        "- UBND thành phố Tuyên Quang (để báo cáo);",
        "TỔ TRƯỞNG",
        "Leader.Tanha",
    ):
        assert line in paragraphs, line
    rows = {row[1]: row[2] for row in cells if len(row) == 3}
    assert rows["Số người được hỗ trợ"] == "5" and rows["Thành viên tổ tham gia"] == "2"
    assert rows["- trong đó từ 60 tuổi trở lên"] == "2" and rows["Hộ đã gặp (có người ở nhà)"] == "2"
    assert rows["Người cao tuổi hoặc cần người giúp"] == "2"  # the obstacles' table
    text = "\n".join(paragraphs)
    assert "450 hồ sơ trực tuyến, đạt 45,00%" in text and "cần thêm khoảng 350 hồ sơ trực tuyến" in text
    assert NOTE in text  # the leader's note, word for word (a document never runs anything)
    assert "DỰ THẢO" not in text


def test_a_report_not_submitted_is_a_draft_and_the_district_lists_its_communes(client, geo, people, month):
    login(client, "staff.city")
    paragraphs, cells, _title = docx_text(
        client.get(f"/activity/units/{geo['city'].id}/download/docx?period={PERIOD}").data
    )
    text = "\n".join(paragraphs)
    assert "DỰ THẢO: chưa nộp" in text and "Số: …/BC-UBND" in text
    assert "UBND HUYỆN" not in text and "UBND THÀNH PHỐ TUYÊN QUANG" in text and "UBND TỈNH TUYÊN QUANG" in text
    assert "Chưa tổng hợp (chưa có báo cáo được duyệt): Phường Đội Cấn (Chưa nộp); Phường Tân Hà (Chưa nộp)." in text


@pytest.mark.skipif(
    not shutil.which("pdftoppm") and os.environ.get("CI") != "true",
    reason="pdftoppm is not installed (apt-get install poppler-utils)",
)
def test_the_pdf_is_a_real_document_with_the_figures(client, geo, approved, tmp_path):
    login(client, "staff.city")
    response = client.get(f"/activity/units/{geo['city'].id}/download/pdf?period={PERIOD}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF-")
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(response.data)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, check=True, text=True).stdout
    for words in (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "Số: 1/BC-UBND",
        "BÁO CÁO",
        "Nơi nhận:",
        "550 / 1.500",  # the city's total of its two approved communes
        "36,67%",
    ):
        assert words in text, words
    subprocess.run(["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")], check=True)
    [png] = list(tmp_path.glob("page*.png"))
    image = Image.open(png).convert("L")
    width, height = image.size
    assert abs(height / width - 297 / 210) < 0.02  # an A4 page, upright
    dark = sum(image.histogram()[:128])
    assert dark > 0.005 * width * height  # text was drawn, not a blank page


def test_the_xlsx_has_a_sheet_per_level_whose_totals_add_up(client, geo, people, approved):
    approve_report(people["staff_province"], approved["city"].id, now=NOW)
    db.session.commit()
    login(client, "staff.province")
    response = client.get(f"/activity/units/{geo['province'].id}/download/xlsx?period={PERIOD}")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["Cấp tỉnh", "Cấp huyện", "Cấp xã", "Chưa tổng hợp", "Ghi chú"]

    def table(name):
        rows = list(book[name].iter_rows(values_only=True))
        header = rows[0]
        return [dict(zip(header, row, strict=True)) for row in rows[1:]]

    helped = "Số người được hỗ trợ"
    province, districts, communes = table("Cấp tỉnh"), table("Cấp huyện"), table("Cấp xã")
    assert [r["Đơn vị"] for r in communes] == ["Phường Đội Cấn", "Phường Tân Hà", "Tổng"]
    assert [r[helped] for r in communes] == [4, 5, 9]  # by hand: 4 + 5
    assert [r[helped] for r in districts] == [9, 9] and [r[helped] for r in province] == [9, 9]
    assert communes[-1]["Hồ sơ tiếp nhận"] == 1500 and communes[-1]["Tỷ lệ trực tuyến (%)"] == 36.67
    assert [r["Đơn vị"] for r in table("Chưa tổng hợp")] == ["Huyện Hàm Yên"]


def test_the_xlsx_never_lets_a_spreadsheet_run_a_cell(client, geo, approved):
    login(client, "leader.tanha")
    data = client.get(f"/activity/units/{geo['tanha'].id}/download/xlsx?period={PERIOD}").data
    book = load_workbook(io.BytesIO(data))
    cells = [cell for sheet in book for row in sheet.iter_rows() for cell in row]
    risky = [c for c in cells if isinstance(c.value, str) and c.value.startswith(("=", "+", "-", "@"))]
    assert [c.value for c in risky] == [NOTE]
    assert all(c.data_type == "s" and c.quotePrefix for c in risky)  # text, and stays text when edited


def test_every_role_downloads_only_within_its_scope(client, geo, approved):
    login(client, "leader.minhkhuong")
    assert client.get(f"/activity/units/{geo['tanha'].id}/download/pdf?period={PERIOD}").status_code == 404
    assert client.get(f"/activity/units/{geo['tanha'].id}/download/exe?period={PERIOD}").status_code == 404


def test_the_document_is_vietnamese_whatever_the_readers_language(app, geo, people, approved):
    with app.test_request_context("/?lang=en"):
        document = build_document(report_view(people["leader"], geo["tanha"], NOVEMBER), today=NOW.date())
    assert document.full_title == TITLE and document.number == "Số: 1/BC-TCNSCĐ"
