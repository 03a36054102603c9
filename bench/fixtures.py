"""The data the benchmarks make: Vietnamese names and mobile numbers, a commune in the field with its
households assigned to a member (sync, walk, today), and a province's committees (dossiers, impact)."""

import collections
import random
import time

from bench.harness import NOW, SEED, close, make_app

PROVINCE = "Tuyên Quang"

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô", "Dương", "Lý"]
FAMILY += ["Ma", "Nông", "Hà", "Triệu", "Quan", "Lương"]  # Tày and Nùng families, common in Tuyên Quang
MIDDLE_M = ["Văn", "Đức", "Minh", "Quang", "Hữu", "Xuân", "Thanh", "Ngọc", "Công"]
MIDDLE_F = ["Thị", "Thị", "Ngọc", "Thu", "Thanh", "Minh", "Hồng"]
GIVEN_M = ["An", "Bình", "Cường", "Dũng", "Đạt", "Hùng", "Hưng", "Khánh", "Lộc", "Phúc", "Quý", "Sơn"]
GIVEN_M += ["Thắng", "Tuấn", "Việt", "Định", "Toản"]
GIVEN_F = ["Hương", "Lan", "Mai", "Nga", "Nhung", "Oanh", "Thủy", "Trang", "Yến", "Hạnh", "Ánh", "Huệ", "Liên"]

FIELD_BOUNDS = (21.82, 105.18, 21.85, 105.21)  # south, west, north, east: a ward of about 3.3 x 3.1 km
FIELD_PASSWORD = "bench-password-1"
MEMBER = "member.bench"


def valid_mobile(rng: random.Random) -> str:
    """A 09xxxxxxxx number the app's own normalizer accepts (a few 09x ranges are unallocated)."""
    from outreach.geo.phone import PhoneError, normalize_phone

    while True:
        phone = f"09{rng.randint(0, 99_999_999):08d}"
        try:
            normalize_phone(phone)
        except PhoneError:
            continue
        return phone


def add_unit(level: str, code: str, name: str, parent=None, bounds: tuple | None = None):
    """An administrative unit, made as tests/conftest.py's make_unit makes one."""
    from outreach.extensions import db
    from outreach.geo.models import AdminUnit, Level, unit_names

    kind, _sep, short = name.partition(" ") if level != Level.VILLAGE else ("Thôn", "", name.removeprefix("Thôn "))
    unit = AdminUnit(
        dataset="legacy",
        code=code,
        level=level,
        kind=kind,
        **unit_names(name, short),
        parent=parent,
        path=f"{parent.path if parent else 'legacy/'}{code}/",
    )
    if bounds:
        unit.south, unit.west, unit.north, unit.east = bounds
        unit.lat, unit.lon = (bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2
    db.session.add(unit)
    db.session.flush()
    return unit


def head_of_household(rng: random.Random) -> str:
    middle, given = (MIDDLE_F, GIVEN_F) if rng.random() < 0.35 else (MIDDLE_M, GIVEN_M)
    return f"{rng.choice(FAMILY)} {rng.choice(middle)} {rng.choice(given)}"


def setup_field(url: str, households: int, *, assigned: int, located: float = 1.0, phones: float = 0.6) -> dict:
    """A province > district > commune > village; a leader of the commune and a member of the village;
    ``households`` households of the village made with create_household, a share ``located`` of them
    with coordinates spread over the commune; the first ``assigned`` checked out to the member for
    today (assign_households); an API token for the member (issue_token)."""
    from outreach.auth.models import Role, User
    from outreach.auth.services import issue_token
    from outreach.clock import local_today
    from outreach.extensions import db
    from outreach.geo.models import Level
    from outreach.geo.services import HouseholdInput, create_household
    from outreach.planning.services import assign_households

    rng = random.Random(SEED)
    south, west, north, east = FIELD_BOUNDS
    app = make_app(url)
    started = time.perf_counter()
    with app.test_request_context():
        province = add_unit(Level.PROVINCE, "08", "Tỉnh Tuyên Quang")
        district = add_unit(Level.DISTRICT, "070", "Thành phố Tuyên Quang", province)
        commune = add_unit(Level.COMMUNE, "02216", "Phường Tân Hà", district, FIELD_BOUNDS)
        village = add_unit(Level.VILLAGE, "02216-001", "Thôn Phú Bình", commune)
        users = {}
        for username, role, unit in (("leader.bench", Role.LEADER, commune), (MEMBER, Role.MEMBER, village)):
            users[role] = User(username=username, role=role, scope_unit=unit, full_name=username.title())
            users[role].set_password(FIELD_PASSWORD)
            db.session.add(users[role])
        db.session.flush()
        leader, member = users[Role.LEADER], users[Role.MEMBER]
        ids = []
        for number in range(1, households + 1):
            lat = lon = None
            if rng.random() < located:
                lat, lon = south + rng.random() * (north - south), west + rng.random() * (east - west)
            phone = valid_mobile(rng) if rng.random() < phones else ""
            data = HouseholdInput(
                village_id=village.id,
                head_name=head_of_household(rng),
                address=f"Số {number}, tổ {number % 12 + 1}",
                phone=phone,
                members=rng.randint(1, 9),
                lat=lat,
                lon=lon,
                consent_store_phone=bool(phone),
                consent_sms=bool(phone) and rng.random() < 0.6,
            )
            ids.append(create_household(leader, data, now=NOW, confirm_duplicate=True).id)
        today = local_today(NOW)
        if assigned:
            assign_households(leader, member.id, ids[:assigned], due_on=today, now=NOW)
        token = issue_token(member, label="bench", now=NOW)
        db.session.commit()
        member_id = member.id
    close(app)
    seconds = time.perf_counter() - started
    return {"member_id": member_id, "household_ids": ids, "token": token, "today": today, "seconds": seconds}


def province_agencies(url: str) -> list[str]:
    """Tuyên Quang's legacy units in the database, and the committees' names as an export writes them."""
    import sqlalchemy as sa

    from outreach.extensions import db
    from outreach.geo.models import AdminUnit, Level
    from outreach.geo.units import import_units

    app = make_app(url)
    with app.app_context():
        import_units("legacy", PROVINCE)
        db.session.commit()
        units = db.session.scalars(
            sa.select(AdminUnit).where(AdminUnit.level.in_([Level.COMMUNE, Level.DISTRICT])).order_by(AdminUnit.code)
        ).all()
        communes = [u for u in units if u.level == Level.COMMUNE]
        twice = {n for n, k in collections.Counter(u.short_name for u in communes).items() if k > 1}
        # Two communes of one name are told apart by their district, as exports do.
        names = [
            f"UBND {(u.kind or 'xã').lower()} {u.short_name}"
            + (f", {u.parent.name.lower()}" if u.short_name in twice else "")
            for u in communes
        ]
        names += [f"UBND {u.name[0].lower()}{u.name[1:]}" for u in units if u.level == Level.DISTRICT]
    close(app)
    return names
