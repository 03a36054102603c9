"""The one CSV reader: UTF-8 with or without BOM, comma or semicolon, Vietnamese or English
headers, rows streamed with their line numbers so every error can point at its row."""

import csv
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from flask_babel import format_decimal
from flask_babel import gettext as _

from outreach.errors import ValidationError
from outreach.text import clean, fold_key

csv.field_size_limit(1_000_000)


@dataclass(frozen=True)
class Column:
    name: str
    aliases: tuple[str, ...]  # header spellings, compared without diacritics, case or punctuation
    required: bool = False


def file_sha256(stream: BinaryIO) -> str:
    """Hash a seekable binary stream and rewind it."""
    digest = hashlib.sha256()
    for chunk in iter(lambda: stream.read(1 << 20), b""):
        digest.update(chunk)
    stream.seek(0)
    return digest.hexdigest()


def line_label(number: int) -> str:
    """Numbers in messages are written the way their reader writes them: "Line 11.182"."""
    return _("Line %(number)s", number=format_decimal(number))


class RowErrors:
    """Problems collected over a whole file, a line at a time; raised together at the end.

    The first ``LIMIT`` problems are listed; the rest are counted. A file that is wrong throughout needs
    its first problems, not 100,000 of them: once the list is full, checking goes on for ``CHECK_PAST``
    more lines (so the count of the rest means something) and then the reader may stop, saying where,
    so a 30 MB file of bad rows is refused in seconds instead of holding a web worker past its timeout."""

    LIMIT = 50
    CHECK_PAST = 5000

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}
        self.count = 0
        self.listed = 0
        self.full_at: int | None = None  # the line whose problem filled the list
        self.stopped_at: int | None = None  # the last line checked, when checking stopped early
        self.unchecked: int | None = None  # lines left after it, when known

    def add(self, line: int, message: str) -> None:
        self.count += 1
        if self.listed < self.LIMIT:
            self.errors.setdefault(line_label(line), []).append(str(message))
            self.listed += 1
            if self.listed == self.LIMIT:
                self.full_at = line

    def __bool__(self) -> bool:
        return self.count > 0

    def enough(self, line: int) -> bool:
        """Whether a reader may stop before ``line``: the list is full and enough lines past it were checked."""
        return self.full_at is not None and line - self.full_at > self.CHECK_PAST

    def stop(self, last_line: int, unchecked: int | None = None) -> None:
        """Checking stopped after ``last_line``; ``unchecked`` lines of the file were not read (None: unknown)."""
        self.stopped_at, self.unchecked = last_line, unchecked

    def raise_if_any(self) -> None:
        if not self.count:
            return
        errors = dict(self.errors)
        more = self.count - self.listed
        summary = []
        if more:
            summary.append(_("…and %(more)s more errors.", more=format_decimal(more)))
        if self.stopped_at is not None:
            if self.unchecked:
                summary.append(
                    _(
                        "The file was checked up to line %(line)s; its other %(rest)s lines were not checked. "
                        "Fix the problems listed and import it again.",
                        line=format_decimal(self.stopped_at),
                        rest=format_decimal(self.unchecked),
                    )
                )
            else:
                summary.append(
                    _(
                        "The file was checked up to line %(line)s; the rest was not checked. "
                        "Fix the problems listed and import it again.",
                        line=format_decimal(self.stopped_at),
                    )
                )
        if summary:
            errors[""] = summary
        raise ValidationError(errors)


def lines_left(stream: BinaryIO) -> int:
    """How many lines a binary stream holds from where it is read up to (counted, not decoded: fast)."""
    count, last = 0, b"\n"
    for chunk in iter(lambda: stream.read(1 << 20), b""):
        count += chunk.count(b"\n")
        last = chunk[-1:]
    return count + (last != b"\n")


class _NotUtf8(Exception):
    def __init__(self, line: int):
        self.line = line


def _decoded_lines(stream: BinaryIO) -> Iterator[str]:
    """Decode line by line, so a bad byte is reported on its own physical line."""
    for number, raw in enumerate(stream, start=1):
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _NotUtf8(number) from exc


class CsvRows:
    """Iterate ``(line_number, {column: value})`` over a CSV file, after checking its header."""

    def __init__(self, stream: BinaryIO, columns: list[Column]):
        self._lines = _decoded_lines(stream)
        try:
            first = next(self._lines, "")
        except _NotUtf8 as exc:
            raise ValidationError({line_label(1): [_("The file is not UTF-8 text. Save it as “CSV UTF-8”.")]}) from exc
        if not first.strip():
            raise ValidationError({line_label(1): [_("The file is empty: the first line must name the columns.")]})
        self.delimiter = ";" if first.count(";") > first.count(",") else ","
        header = next(csv.reader([first], delimiter=self.delimiter))
        self.columns = self._match_header(header, columns)
        self._reader = csv.reader(self._lines, delimiter=self.delimiter)

    @staticmethod
    def _match_header(header: list[str], columns: list[Column]) -> dict[str, int]:
        by_alias = {fold_key(alias): col.name for col in columns for alias in (col.name, *col.aliases)}
        found: dict[str, int] = {}
        for index, title in enumerate(header):
            name = by_alias.get(fold_key(title))
            if name is not None and name not in found:
                found[name] = index
        missing = [col for col in columns if col.required and col.name not in found]
        if missing:
            expected = "; ".join(f"{col.aliases[0]} ({col.name})" for col in missing)
            found_text = ", ".join(h.strip() for h in header)
            raise ValidationError(
                {
                    line_label(1): [
                        _("Missing column(s): %(columns)s. Found: %(found)s.", columns=expected, found=found_text)
                    ]
                }
            )
        return found

    def __iter__(self) -> Iterator[tuple[int, dict[str, str]]]:
        line = 1
        try:
            for cells in self._reader:
                line = self._reader.line_num + 1  # the header was line 1
                if not any(c.strip() for c in cells):
                    continue
                yield line, {name: clean(cells[i]) if i < len(cells) else "" for name, i in self.columns.items()}
        except _NotUtf8 as exc:
            raise ValidationError(
                {line_label(exc.line): [_("This line is not UTF-8 text. Save the file as “CSV UTF-8”.")]}
            ) from exc
        except csv.Error as exc:
            raise ValidationError({line_label(line + 1): [_("Unreadable CSV: %(error)s", error=str(exc))]}) from exc


# --- Tables of any shape (statistics exports): CSV or XLSX, rows streamed as text cells ---------------

XLSX_MAGIC = b"PK\x03\x04"


def is_xlsx(stream: BinaryIO, filename: str = "") -> bool:
    """XLSX by its zip signature (a renamed file is still recognised), else by its name."""
    head = stream.read(4)
    stream.seek(0)
    return head == XLSX_MAGIC or filename.lower().endswith(".xlsx")


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if hasattr(value, "date") and hasattr(value, "hour"):  # datetime: spreadsheets store dates as datetimes
        return value.date().isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return clean(str(value))


def _xlsx_rows(stream: BinaryIO) -> Iterator[tuple[int, list[str]]]:
    from openpyxl import load_workbook  # only XLSX imports pay for it

    try:
        book = load_workbook(stream, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged or foreign file
        raise ValidationError({"": [_("The spreadsheet could not be read (%(error)s).", error=str(exc))]}) from exc
    try:
        sheet = book.worksheets[0]
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, [_cell_text(value) for value in row]
    finally:
        book.close()


def _csv_rows(stream: BinaryIO) -> Iterator[tuple[int, list[str]]]:
    lines = _decoded_lines(stream)
    try:
        head: list[str] = []
        for line in lines:
            head.append(line)
            if len(head) == 20:
                break
        sample = "".join(head)
        delimiter = ";" if sample.count(";") > sample.count(",") else ","

        def all_lines() -> Iterator[str]:
            yield from head
            yield from lines

        reader = csv.reader(all_lines(), delimiter=delimiter)
        for cells in reader:
            yield reader.line_num, [clean(cell) for cell in cells]
    except _NotUtf8 as exc:
        raise ValidationError(
            {line_label(exc.line): [_("This line is not UTF-8 text. Save the file as “CSV UTF-8”.")]}
        ) from exc
    except csv.Error as exc:
        raise ValidationError({"": [_("Unreadable CSV: %(error)s", error=str(exc))]}) from exc


def table_rows(stream: BinaryIO, filename: str = "") -> Iterator[tuple[int, list[str]]]:
    """Every row of a CSV or XLSX file as ``(line, cells)``, streamed: a file of millions of rows is
    never held in memory. Lines are the file's own (CSV) or the sheet's row numbers (XLSX)."""
    if is_xlsx(stream, filename):
        return _xlsx_rows(stream)
    return _csv_rows(stream)


# --- Writing tables for spreadsheets --------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value):
    """A cell a spreadsheet will show, never run: text starting with = + - @ (or a tab or carriage
    return) gets a leading apostrophe. Numbers stay numbers."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def write_csv(header: list[str], rows, out, *, decimal_comma: bool = False) -> None:
    """CSV for Excel: UTF-8 with a BOM (Vietnamese shows right), every text cell made safe. With
    ``decimal_comma`` (Excel set to Vietnamese), fields are separated by ";" and decimals written 42,06."""
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";" if decimal_comma else ",", lineterminator="\r\n")
    writer.writerow([spreadsheet_safe(h) for h in header])
    for row in rows:
        writer.writerow(
            [
                str(cell).replace(".", ",") if decimal_comma and isinstance(cell, float) else spreadsheet_safe(cell)
                for cell in row
            ]
        )


def write_xlsx(header: list[str], rows, out: BinaryIO, *, sheet_title: str = "Outreach") -> None:
    """An XLSX workbook of one sheet, streamed (write-only). Every text is stored as text: a cell typed
    as a string is never a formula, and one starting with = + - @ carries Excel's quote prefix (the
    apostrophe Excel itself hides), so it stays text even when someone edits it."""
    write_xlsx_sheets([(sheet_title, header, rows)], out)


def write_xlsx_sheets(sheets, out: BinaryIO) -> None:
    """An XLSX workbook of several sheets, each ``(title, header, rows)``, written as ``write_xlsx`` does."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    for sheet_title, header, rows in sheets:
        sheet = book.create_sheet(title=str(sheet_title)[:31] or "Outreach")

        def cells(values, sheet=sheet):
            for value in values:
                if isinstance(value, str):
                    cell = WriteOnlyCell(sheet, value=value)
                    cell.data_type = "s"  # openpyxl would store "=..." as a formula
                    if value.startswith(_FORMULA_START):
                        cell.quotePrefix = True  # Excel's hidden apostrophe: still text after someone edits it
                    yield cell
                else:
                    yield value

        sheet.append(list(cells(header)))
        for row in rows:
            sheet.append(list(cells(row)))
    book.save(out)
