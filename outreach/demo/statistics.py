"""The demo's impact story: a spring campaign in six communes, and three years of online-submission
statistics for every agency of the province, imported through the real importer (a CSV summary and an
XLSX correction), so the reports, the maps' rate measures and the import history have something to show.
On the 2025 structure the months before 1/7/2025 come in a file of their own naming the former communes,
as the province's system exported them then, and reach today's communes through the crosswalk.

The figures are invented (a slow rise everywhere, a larger one where the teams went out) and say so in
the file name; they are not Tuyên Quang's real statistics.
"""

import io
import random
import uuid
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from openpyxl import Workbook

from outreach.auth.models import Role, User
from outreach.auth.services import create_user
from outreach.clock import local_today
from outreach.extensions import db
from outreach.geo.models import REFORM_DATE, AdminUnit, FormerUnit, Household, Level
from outreach.planning.services import CampaignInput, save_campaign
from outreach.reports.imports import import_statistics
from outreach.text import fold
from outreach.visits.services import sync_visits

DEPARTMENTS = [
    ("Sở Tư pháp tỉnh Tuyên Quang", 900, 0.55),
    ("Sở Kế hoạch và Đầu tư", 600, 0.70),
    ("Sở Giao thông vận tải", 1400, 0.45),
    ("Công an tỉnh Tuyên Quang", 2500, 0.50),
]


def spring_of(today: date) -> tuple[date, date]:
    """The last spring campaign (2 March to 29 May) that ended before ``today``: the demo's story is
    told relative to the day it is seeded, whatever that day is."""
    year = today.year if today > date(today.year, 5, 29) else today.year - 1
    return date(year, 3, 2), date(year, 5, 29)


def first_month(today: date) -> date:
    """Statistics start in January two years before the spring campaign."""
    return date(spring_of(today)[0].year - 2, 1, 1)


def _vn(number: int) -> str:
    """A count written the Vietnamese way, as the province's exports do: 1.205."""
    return f"{number:,}".replace(",", ".")


def _months(first: date, last: date) -> list[date]:
    months, month = [], first
    while month <= last:
        months.append(month)
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return months


def seed_spring_campaign(
    rng: random.Random,
    communes: list[AdminUnit],
    leaders: dict[str, User],
    skip_villages: set[int],
    *,
    password: str,
    now: datetime,
) -> list[tuple[str, str, str]]:
    """A spring campaign in each commune with households, its visits recorded by the commune's leader.
    Returns the leader accounts it had to create (username, role, unit)."""
    created = []
    spring_start, spring_end = spring_of(local_today(now))
    for commune in communes:
        leader = leaders.get(commune.code)
        if leader is None:
            username = "lanhdao." + fold(commune.short_name or commune.name).replace(" ", "")
            leader = create_user(
                None, username, role=Role.LEADER, unit=commune, password=password,
                full_name=f"Chủ tịch UBND {(commune.kind or 'xã').lower()} {commune.short_name}", now=now,
            )  # fmt: skip
            leaders[commune.code] = leader
            created.append((username, Role.LEADER.value, commune.name))
        villages = list(
            db.session.scalars(sa.select(AdminUnit).where(AdminUnit.parent_id == commune.id).order_by(AdminUnit.code))
        )
        save_campaign(
            leader, commune,
            CampaignInput(f"Chiến dịch 90 ngày – Xuân {spring_start.year}", spring_start, spring_end,
                          [v.id for v in villages], goal_visited_pct=70, goal_activated_pct=60),
            now=now,
        )  # fmt: skip
        share = rng.uniform(0.35, 0.75)  # how far each commune got
        records = []
        for village in villages:
            if village.id in skip_villages:
                continue
            homes = db.session.scalars(sa.select(Household.id).where(Household.village_id == village.id)).all()
            for household_id in rng.sample(homes, int(len(homes) * share)):
                day = spring_start + timedelta(days=rng.randint(0, (spring_end - spring_start).days))
                outcome = rng.choices(["helped", "nobody_home", "refused", "follow_up"], weights=[70, 15, 5, 10])[0]
                helped = outcome == "helped"
                people = rng.randint(1, 4) if helped else 0
                records.append(
                    {
                        "client_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                        "household_id": household_id,
                        "device_time": f"{day.isoformat()}T{rng.randint(8, 17):02d}:{rng.randint(0, 59):02d}:00+07:00",
                        "outcome": outcome,
                        "people_helped": people,
                        "helped_30_to_59": people,
                        "vneid_installed": helped,
                        "vneid_level1": helped and rng.random() < 0.85,
                        "referred_level2": helped and rng.random() < 0.5,
                        "portal_login": helped and rng.random() < 0.5,
                        "follow_up_on": (day + timedelta(days=7)).isoformat() if outcome == "follow_up" else None,
                    }
                )
        for start in range(0, len(records), 500):
            results = sync_visits(leader, records[start : start + 500], now=now)
            assert all(r.status == "created" for r in results), [r.errors for r in results if r.status != "created"][:3]
    db.session.flush()
    return created


def seed_statistics(
    rng: random.Random, province: AdminUnit, treated_codes: set[str], *, today: date, now: datetime
) -> None:
    """Monthly figures from January 2024 to last month for every committee and four departments."""
    last = date(today.year, today.month, 1) - timedelta(days=1)
    months = _months(first_month(today), last.replace(day=1))
    spring_start = spring_of(today)[0]
    units = list(
        db.session.scalars(
            sa.select(AdminUnit)
            .where(AdminUnit.path.startswith(province.path), AdminUnit.level.in_([Level.DISTRICT, Level.COMMUNE]))
            .order_by(AdminUnit.code)
        )
    )
    communes = [u for u in units if u.level == Level.COMMUNE]
    by_short: dict[str, list[AdminUnit]] = {}
    for commune in communes:
        by_short.setdefault(fold(commune.short_name), []).append(commune)
    # One pair of communes whose names differ only by their diacritics (Tân Thành, Tân Thanh): the first is
    # written without diacritics and without its district, as some systems do ("UBND xa Tan Thanh"), so it
    # fits both and waits on the agencies page for a person to say which it is.
    ambiguous = next((group[0].id for group in by_short.values() if len(group) > 1), None)

    def agency_name(unit: AdminUnit) -> str:
        if unit.level == Level.DISTRICT:
            return f"UBND {unit.name[0].lower()}{unit.name[1:]}"
        if unit.id == ambiguous:
            return f"UBND {fold(unit.kind or 'xã')} {fold(unit.short_name).title()}"
        name = f"UBND {(unit.kind or 'xã').lower()} {unit.short_name}"
        if len(by_short[fold(unit.short_name)]) > 1 and unit.id != ambiguous:
            name += f", {unit.parent_unit.name.lower()}"
        return name

    lines = [
        "STT;Tên đơn vị;Kỳ báo cáo;Tổng số hồ sơ tiếp nhận;Hồ sơ trực tuyến;Trực tuyến toàn trình;"
        "Trực tuyến một phần;Thanh toán trực tuyến;Tỷ lệ trực tuyến (%)"
    ]
    number = 0
    for unit in units:
        urban = unit.kind in ("Phường", "Thị trấn")
        size = rng.randint(300, 900) if urban else rng.randint(40, 260)
        if unit.level == Level.DISTRICT:
            size = rng.randint(400, 1200)
        base = rng.uniform(0.18, 0.40) + (0.08 if urban else 0)
        treated = unit.code in treated_codes
        for index, month in enumerate(months):
            rate = base + 0.004 * index + rng.gauss(0, 0.02)
            if treated and month >= spring_start.replace(day=1):
                months_in = (month.year - spring_start.year) * 12 + month.month - 3
                rate += min(0.14, 0.04 * (months_in + 1))
            rate = min(max(rate, 0.02), 0.97)
            total = max(5, int(size * rng.uniform(0.8, 1.2) * (0.75 if month.month in (1, 2) else 1)))
            online = round(total * rate)
            fully = round(online * 0.6)
            number += 1
            counts = ";".join(_vn(n) for n in (total, online, fully, online - fully, round(online * 0.3)))
            percent = f"{100 * online / total:.2f}".replace(".", ",")
            lines.append(f"{number};{agency_name(unit)};{month:%m/%Y};{counts};{percent}")
    for name, size, base in DEPARTMENTS:
        for index, month in enumerate(months):
            total = int(size * rng.uniform(0.85, 1.15))
            online = round(total * min(0.95, base + 0.003 * index + rng.gauss(0, 0.015)))
            number += 1
            lines.append(f"{number};{name};{month:%m/%Y};{total};{online};{online};0;{round(online * 0.5)};")
    lines.append(";Tổng cộng;;;;;;;")
    data = ("\n".join(lines) + "\n").encode("utf-8")
    import_statistics(
        None, io.BytesIO(data), f"so-lieu-minh-hoa-dvc-tuyen-quang-{months[0].year}-{months[-1].year}.csv",
        province=province, now=now,
    )  # fmt: skip

    # A correction sent later for last month, as an XLSX: three communes' figures replaced.
    book = Workbook()
    sheet = book.active
    sheet.append(["Báo cáo bổ sung số liệu tháng " + f"{months[-1]:%m/%Y}"])
    sheet.append(["Đơn vị tiếp nhận", "Tháng", "Tổng số hồ sơ", "Số hồ sơ trực tuyến"])
    for unit in communes[:3]:
        total = rng.randint(80, 300)
        sheet.append([agency_name(unit), f"{months[-1]:%m/%Y}", total, round(total * 0.5)])
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    import_statistics(
        None, out, f"bo-sung-thang-{months[-1]:%m-%Y}.xlsx", province=province, now=now + timedelta(seconds=1)
    )


def _rate_rows(
    rng: random.Random,
    entries: list[tuple[str, bool, int, float, bool]],
    months: list[date],
    first: date,
    spring_start: date,
) -> list[str]:
    """Rows of the summary file for ``months``: per entry (agency name, urban, size, base rate, treated),
    a rate rising slowly from ``first`` (the demo's first month, so series continue across files) and
    more where the teams went out."""
    lines = []
    for name, _urban, size, base, treated in entries:
        for month in months:
            index = (month.year - first.year) * 12 + month.month - first.month
            rate = base + 0.004 * index + rng.gauss(0, 0.02)
            if treated and month >= spring_start.replace(day=1):
                months_in = (month.year - spring_start.year) * 12 + month.month - 3
                rate += min(0.14, 0.04 * (months_in + 1))
            rate = min(max(rate, 0.02), 0.97)
            total = max(5, int(size * rng.uniform(0.8, 1.2) * (0.75 if month.month in (1, 2) else 1)))
            online = round(total * rate)
            fully = round(online * 0.6)
            counts = ";".join(_vn(n) for n in (total, online, fully, online - fully, round(online * 0.3)))
            percent = f"{100 * online / total:.2f}".replace(".", ",")
            lines.append(f"{name};{month:%m/%Y};{counts};{percent}")
    return lines


def _department_rows(rng: random.Random, months: list[date], first: date) -> list[str]:
    lines = []
    for name, size, base in DEPARTMENTS:
        for month in months:
            index = (month.year - first.year) * 12 + month.month - first.month
            total = int(size * rng.uniform(0.85, 1.15))
            online = round(total * min(0.95, base + 0.003 * index + rng.gauss(0, 0.015)))
            lines.append(f"{name};{month:%m/%Y};{total};{online};{online};0;{round(online * 0.5)};")
    return lines


def _summary_file(lines: list[str]) -> io.BytesIO:
    header = (
        "STT;Tên đơn vị;Kỳ báo cáo;Tổng số hồ sơ tiếp nhận;Hồ sơ trực tuyến;Trực tuyến toàn trình;"
        "Trực tuyến một phần;Thanh toán trực tuyến;Tỷ lệ trực tuyến (%)"
    )
    numbered = [f"{n};{line}" for n, line in enumerate(lines, start=1)]
    text = "\n".join([header, *numbered, ";Tổng cộng;;;;;;;"]) + "\n"
    return io.BytesIO(text.encode("utf-8"))


def seed_statistics_across_reform(
    rng: random.Random, province: AdminUnit, treated_codes: set[str], *, today: date, now: datetime
) -> None:
    """The statistics of a 2025 province from January two years before the spring campaign to last month,
    as the province would have them: a file of the months before 1/7/2025 naming the former communes
    (the crosswalk counts each in the commune it is part of today) and a file of the months since naming
    today's communes. A commune's size after the reform is that of the former communes that went into it,
    so a merged ward's series runs on across the reform."""
    last = date(today.year, today.month, 1) - timedelta(days=1)
    first = first_month(today)
    months = _months(first, last.replace(day=1))
    before = [m for m in months if m < REFORM_DATE]
    after = [m for m in months if m >= REFORM_DATE]
    spring_start = spring_of(today)[0]
    communes = list(
        db.session.scalars(
            sa.select(AdminUnit)
            .where(AdminUnit.path.startswith(province.path), AdminUnit.level == Level.COMMUNE)
            .order_by(AdminUnit.code)
        )
    )
    formers = list(
        db.session.scalars(sa.select(FormerUnit).where(FormerUnit.province_id == province.id).order_by(FormerUnit.code))
    )
    by_short: dict[str, list[FormerUnit]] = {}
    for former in formers:
        by_short.setdefault(fold(former.short_name), []).append(former)
    # Three former communes were called Tân Thành or Tân Thanh (Bắc Quang, Hàm Yên, Sơn Dương): the first is
    # written without diacritics and without its district ("UBND xa Tan Thanh"), as some systems do, so it
    # fits all three and waits on the agencies page for a person to say which it is.
    ambiguous = by_short.get("tan thanh", [None])[0]

    def former_name(former: FormerUnit) -> str:
        if former is ambiguous:
            return f"UBND {fold(former.kind or 'xã')} {fold(former.short_name).title()}"
        name = f"UBND {(former.kind or 'xã').lower()} {former.short_name}"
        if len(by_short[fold(former.short_name)]) > 1:
            name += f", {former.district_name[:1].lower()}{former.district_name[1:]}"  # "huyện Hàm Yên"
        return name

    treated_ids = {c.id for c in communes if c.code in treated_codes}
    sizes: dict[int, list[tuple[int, float]]] = {}
    entries_before = []
    for former in formers:
        urban = former.kind in ("Phường", "Thị trấn")
        size = rng.randint(300, 900) if urban else rng.randint(40, 260)
        base = rng.uniform(0.18, 0.40) + (0.08 if urban else 0)
        main = former.main_successor
        if main is not None:
            sizes.setdefault(main.id, []).append((size, base))
        treated = main is not None and main.id in treated_ids
        entries_before.append((former_name(former), urban, size, base, treated))
    entries_after = []
    for commune in communes:
        parts = sizes.get(commune.id) or [(rng.randint(40, 260), rng.uniform(0.18, 0.40))]
        size = sum(n for n, _b in parts)
        base = sum(n * b for n, b in parts) / size
        name = f"UBND {(commune.kind or 'xã').lower()} {commune.short_name}"
        entries_after.append((name, commune.kind == "Phường", size, base, commune.id in treated_ids))
    stamp = now
    if before:
        lines = _rate_rows(rng, entries_before, before, first, spring_start) + _department_rows(rng, before, first)
        import_statistics(
            None, _summary_file(lines),
            f"so-lieu-minh-hoa-dvc-tuyen-quang-truoc-sap-xep-{before[0]:%m-%Y}-{before[-1]:%m-%Y}.csv",
            province=province, now=stamp,
        )  # fmt: skip
        stamp += timedelta(seconds=1)
    if after:
        lines = _rate_rows(rng, entries_after, after, first, spring_start) + _department_rows(rng, after, first)
        import_statistics(
            None, _summary_file(lines),
            f"so-lieu-minh-hoa-dvc-tuyen-quang-{after[0]:%m-%Y}-{after[-1]:%m-%Y}.csv",
            province=province, now=stamp,
        )  # fmt: skip
        # A correction sent later for last month, as an XLSX: three communes' figures replaced.
        book = Workbook()
        sheet = book.active
        sheet.append(["Báo cáo bổ sung số liệu tháng " + f"{after[-1]:%m/%Y}"])
        sheet.append(["Đơn vị tiếp nhận", "Tháng", "Tổng số hồ sơ", "Số hồ sơ trực tuyến"])
        for name, _urban, size, base, _treated in entries_after[:3]:
            total = int(size * rng.uniform(0.9, 1.1))
            sheet.append([name, f"{after[-1]:%m/%Y}", total, round(total * min(0.95, base + 0.1))])
        out = io.BytesIO()
        book.save(out)
        out.seek(0)
        import_statistics(
            None, out, f"bo-sung-thang-{after[-1]:%m-%Y}.xlsx", province=province, now=stamp + timedelta(seconds=1)
        )
