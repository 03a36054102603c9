"""The Tuyên Quang demo, on the 2025 structure by default: the new province (Tuyên Quang and Hà Giang
merged, 124 communes straight under it, no districts) and the crosswalk from its 330 former communes; or,
with ``dataset="legacy"``, the units before 1/7/2025 (7 districts, 137 communes). Invented villages,
households and one user per role either way. The same seed gives the same demo every time."""

import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from outreach.auth.models import Role, User
from outreach.auth.services import create_user
from outreach.clock import local_today
from outreach.demo.activity import seed_activity_reports
from outreach.demo.privacy import seed_privacy
from outreach.demo.statistics import seed_spring_campaign, seed_statistics, seed_statistics_across_reform
from outreach.extensions import db
from outreach.geo.consent import CONSENT_TEXTS, CONSENT_VERSION
from outreach.geo.crosswalk import import_crosswalk
from outreach.geo.models import AdminUnit, Bounds, Consent, FormerUnit, Household, Level, Purpose, unit_names
from outreach.geo.units import import_units
from outreach.planning.services import CampaignInput, assign_households, save_campaign
from outreach.requests import services as helps
from outreach.sms import services as sms
from outreach.sms.guides_content import install_guides
from outreach.sms.models import Status
from outreach.text import fold
from outreach.visits.services import record_visit

PASSWORD = "demo-2026"
SEED = 2026

# Communes named in the field notes; they get households, the others only villages.
HOUSEHOLD_COMMUNES = ("02216", "02524", "02200", "02383", "02368", "02284")
# The same places since 1/7/2025: Minh Xuân (old Tân Hà, Phan Thiết and four more), Bình Thuận (old Đội
# Cấn), Bạch Xa (old Minh Khương), Tri Phú (old Linh Phú), Nà Hang (old Thanh Tương), and Hàm Yên.
HOUSEHOLD_COMMUNES_2025 = ("02215", "02524", "02380", "02359", "02221", "02374")

FAMILY = [
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Hoàng",
    "Hà",
    "Nông",
    "Ma",
    "Triệu",
    "Bàn",
    "Lý",
    "Đặng",
    "Quan",
    "Lộc",
    "Phùng",
    "Chu",
    "Vũ",
    "Đỗ",
    "Mạc",
    "Hứa",
]
MIDDLE_M = ["Văn", "Đức", "Minh", "Hữu", "Quang", "Xuân", "Tiến"]
MIDDLE_F = ["Thị", "Thị", "Ngọc", "Thanh", "Thu", "Hồng"]
GIVEN_M = [
    "An",
    "Bình",
    "Cường",
    "Dũng",
    "Hải",
    "Hùng",
    "Khánh",
    "Long",
    "Nam",
    "Quân",
    "Sơn",
    "Thắng",
    "Tuấn",
    "Trường",
    "Vinh",
    "Phúc",
    "Lâm",
    "Chiến",
    "Thành",
    "Toàn",
]
GIVEN_F = [
    "Lan",
    "Mai",
    "Nga",
    "Phương",
    "Yến",
    "Hạnh",
    "Hoa",
    "Hương",
    "Liên",
    "Thảo",
    "Dung",
    "Hà",
    "Nhung",
    "Vân",
    "Tuyết",
    "Xuân",
]
VILLAGE_NAMES = [
    "Bản Pài",
    "Nà Khà",
    "Khuổi Phầy",
    "Phiêng Luông",
    "Nà Mụ",
    "Bó Củng",
    "Đồng Mới",
    "Tân Lập",
    "Tân Thành",
    "Làng Chùa",
    "Đồng Cướm",
    "Cầu Cả",
    "Nà Lá",
    "Pác Cáp",
    "Khuôn Hẻo",
    "Nặm Đíp",
    "Nà Héc",
    "Bản Tấng",
    "Thác Lăn",
    "Đồng Vàng",
    "Cao Phạ",
    "Làng Mới",
    "Bình Man",
    "Nà Tông",
    "Nà Lung",
    "Khuổi Củng",
    "Phai Tre",
    "Đèo Gianh",
    "Nà Ta",
    "Tiền Phong",
    "Hưng Thành",
    "Kim Quan",
]
STREETS = [
    "ngõ 12",
    "ngõ 34",
    "ngách 5",
    "đường Lê Lợi",
    "đường 17/8",
    "đường Tân Trào",
    "xóm Trên",
    "xóm Dưới",
    "cạnh nhà văn hoá",
    "gần trường tiểu học",
]
HIGHLAND = ("071", "072")  # Lâm Bình, Na Hang: "bản" are common (and in all of former Hà Giang, "02")


@dataclass(frozen=True)
class Story:
    """Who is who in the demo of one dataset: commune codes, then (username, full name)."""

    dataset: str
    household_communes: tuple[str, ...]
    area_staff: tuple[str, str, str]  # code, username, full name: the staff below the province
    leaders: tuple[tuple[str, str, str], ...]  # code, username, full name; the first one's members walk today
    members: tuple[tuple[str, str], ...]


STORIES = {
    "legacy": Story(
        "legacy",
        HOUSEHOLD_COMMUNES,
        ("074", "canbo.hamyen", "Cán bộ huyện Hàm Yên"),
        (
            ("02216", "lanhdao.tanha", "Chủ tịch UBND phường Tân Hà"),
            ("02383", "lanhdao.minhkhuong", "Chủ tịch UBND xã Minh Khương"),
        ),
        (("thanhvien.tanha", "Lý Thị Hằng"), ("thanhvien2.tanha", "Ma Văn Tú")),
    ),
    # No districts since 1/7/2025: the staff below the province are a commune's.
    "2025": Story(
        "2025",
        HOUSEHOLD_COMMUNES_2025,
        ("02374", "canbo.hamyen", "Cán bộ UBND xã Hàm Yên"),
        (
            ("02215", "lanhdao.minhxuan", "Chủ tịch UBND phường Minh Xuân"),
            ("02380", "lanhdao.bachxa", "Chủ tịch UBND xã Bạch Xa"),
        ),
        (("thanhvien.minhxuan", "Lý Thị Hằng"), ("thanhvien2.minhxuan", "Ma Văn Tú")),
    ),
}


@dataclass
class DemoSummary:
    dataset: str
    districts: int
    communes: int
    villages: int
    households: int
    users: list[tuple[str, str, str]]


def _name(rng: random.Random) -> str:
    if rng.random() < 0.7:
        return f"{rng.choice(FAMILY)} {rng.choice(MIDDLE_M)} {rng.choice(GIVEN_M)}"
    return f"{rng.choice(FAMILY)} {rng.choice(MIDDLE_F)} {rng.choice(GIVEN_F)}"


def _point(rng: random.Random, unit: AdminUnit, boxes: list[Bounds]) -> tuple[float | None, float | None]:
    """A point well inside the commune's box, or (2025: no boxes) inside the box of one of the former
    communes that went whole into it, or near its centre."""
    box = unit.bounds or (rng.choice(boxes) if boxes else None)
    if box is None:
        if unit.lat is None or unit.lon is None:
            return None, None
        return round(unit.lat + rng.gauss(0, 0.01), 6), round(unit.lon + rng.gauss(0, 0.01), 6)
    # Keep away from the edges of the box, where it may leave the commune.
    dy, dx = (box.north - box.south) * 0.2, (box.east - box.west) * 0.2
    return (
        round(rng.uniform(box.south + dy, box.north - dy), 6),
        round(rng.uniform(box.west + dx, box.east - dx), 6),
    )


def _former_boxes(province: AdminUnit) -> tuple[dict[int, list[Bounds]], set[int]]:
    """For a 2025 province: the boxes of the former communes that went whole into each commune, and
    the communes with land of former Hà Giang or of Lâm Bình and Na Hang (where "bản" are common)."""
    boxes: dict[int, list[Bounds]] = {}
    highland: set[int] = set()
    for former in db.session.scalars(sa.select(FormerUnit).where(FormerUnit.province_id == province.id)):
        main = next((s.unit_id for s in former.successions if s.is_main), None)
        if main is None:
            continue
        if former.old_province_code != province.code or former.district_code in HIGHLAND:
            highland.add(main)
        if former.bounds is not None and not former.was_split:
            boxes.setdefault(main, []).append(former.bounds)
    return boxes, highland


QUARTERS = ("I", "II", "III", "IV")


def is_empty() -> bool:
    return db.session.scalar(sa.select(sa.func.count(User.id))) == 0


def seed_demo(*, now: datetime, dataset: str = "2025") -> DemoSummary:
    """Build the demo in the current transaction (the caller commits): on the 2025 structure, or on the
    units before 1/7/2025 with ``dataset="legacy"``."""
    story = STORIES[dataset]
    rng = random.Random(SEED)
    import_units(dataset, "Tuyên Quang")
    province = db.session.execute(
        sa.select(AdminUnit).where(AdminUnit.dataset == dataset, AdminUnit.code == "08")
    ).scalar_one()
    boxes: dict[int, list[Bounds]] = {}
    highland: set[int] = set()
    if dataset == "2025":
        import_crosswalk("Tuyên Quang")  # old names and codes in files and statistics find today's communes
        boxes, highland = _former_boxes(province)
    communes = list(
        db.session.scalars(
            sa.select(AdminUnit)
            .where(AdminUnit.path.startswith(province.path), AdminUnit.level == Level.COMMUNE)
            .order_by(AdminUnit.code)
        )
    )
    village_rows = []
    for commune in communes:
        if commune.kind in ("Phường", "Thị trấn"):
            names = [("Tổ dân phố", str(n)) for n in range(1, rng.randint(8, 16) + 1)]
        else:
            high = commune.id in highland if dataset == "2025" else commune.path.split("/")[2] in HIGHLAND
            kind = "Bản" if high and rng.random() < 0.5 else "Thôn"
            names = [(kind, n) for n in rng.sample(VILLAGE_NAMES, rng.randint(7, 16))]
        for number, (kind, short) in enumerate(names, start=1):
            code = f"{commune.code}-{number:03d}"
            lat, lon = _point(rng, commune, boxes.get(commune.id, []))
            village_rows.append(
                {
                    "dataset": dataset,
                    "code": code,
                    "level": Level.VILLAGE,
                    "kind": kind,
                    **unit_names(f"{kind} {short}", short),
                    "parent_id": commune.id,
                    "path": f"{commune.path}{code}/",
                    "lat": lat,
                    "lon": lon,
                    "created_at": now,
                    "updated_at": now,
                }
            )
    db.session.execute(sa.insert(AdminUnit), village_rows)

    by_code = {c.code: c for c in communes}
    leader_of = {}
    users = []

    def add_user(username: str, role: Role, unit: AdminUnit | None, full_name: str) -> User:
        user = create_user(None, username, role=role, unit=unit, password=PASSWORD, full_name=full_name, now=now)
        users.append(
            (
                username,
                role.value,
                (f"{unit.name}, {unit.parent_unit.name}" if unit.level == Level.VILLAGE else unit.name)
                if unit
                else "—",
            )
        )
        return user

    add_user("admin", Role.ADMIN, None, "Quản trị hệ thống")
    # The department in charge of digital transformation: Information and Communications until it merged
    # into Science and Technology in 2025.
    department = "Sở Khoa học và Công nghệ" if dataset == "2025" else "Sở Thông tin và Truyền thông"
    add_user("canbo.tinh", Role.STAFF, province, f"Cán bộ {department}")
    area_code, area_username, area_name = story.area_staff
    area = db.session.scalar(sa.select(AdminUnit).where(AdminUnit.dataset == dataset, AdminUnit.code == area_code))
    add_user(area_username, Role.STAFF, area, area_name)
    for code, username, full_name in story.leaders:
        leader_of[code] = add_user(username, Role.LEADER, by_code[code], full_name)
    home = by_code[story.leaders[0][0]]
    home_villages = list(
        db.session.scalars(sa.select(AdminUnit).where(AdminUnit.parent_id == home.id).order_by(AdminUnit.code))
    )
    walkers = [
        add_user(username, Role.MEMBER, village, full_name)
        for (username, full_name), village in zip(story.members, home_villages, strict=False)
    ]

    villages = list(
        db.session.scalars(
            sa.select(AdminUnit)
            .where(
                AdminUnit.level == Level.VILLAGE,
                AdminUnit.parent_id.in_([by_code[c].id for c in story.household_communes]),
            )
            .order_by(AdminUnit.code)
        )
    )
    households = 0
    for village in villages:
        collector = leader_of.get(village.parent_unit.code)
        for _n in range(rng.randint(35, 110)):
            household = Household(
                village_id=village.id,
                head_name=(head := _name(rng)),
                head_name_folded=fold(head),
                address=(address := f"{rng.randint(1, 250)} {rng.choice(STREETS)}"),
                address_folded=fold(address),
                members=rng.choice([1, 2, 2, 3, 3, 4, 4, 4, 5, 5, 6, 7]),
                created_at=now,
                updated_at=now,
                created_by_id=collector.id if collector else None,
            )
            if rng.random() < 0.75 and village.lat is not None and village.lon is not None:
                household.lat, household.lon = (
                    round(village.lat + rng.gauss(0, 0.003), 6),
                    round(village.lon + rng.gauss(0, 0.003), 6),
                )
            if rng.random() < 0.7:
                household.phone = f"+84{rng.choice('35789')}{rng.randrange(10**8):08d}"
                purposes = [Purpose.STORE_PHONE] + ([Purpose.RECEIVE_SMS] if rng.random() < 0.75 else [])
                for purpose in purposes:
                    household.consents.append(
                        Consent(
                            purpose=purpose,
                            text_version=CONSENT_VERSION,
                            text=CONSENT_TEXTS[purpose],
                            method="in_person",
                            collected_by_id=collector.id if collector else None,
                            collected_at=now,
                        )
                    )
            db.session.add(household)
            households += 1
    db.session.flush()
    leader = leader_of[home.code]
    _seed_field_work(rng, leader, walkers, home_villages, now=now)
    _seed_sms(rng, leader, walkers[0], home_villages, now=now)
    _seed_help_requests(leader, walkers[0], home_villages, now=now)
    seed_privacy(leader, now=now)
    # Spring: the commune leaders went door to door in every commune with households (not in the two
    # villages the members walk today); then three years of submission statistics to measure it by.
    spring = [by_code[code] for code in story.household_communes]
    for username, role, unit_name in seed_spring_campaign(
        rng, spring, leader_of, {v.id for v in home_villages[:2]}, password=PASSWORD, now=now
    ):
        users.append((username, role, unit_name))
    if dataset == "2025":
        # Files from before 1/7/2025 name the former communes; the crosswalk counts them in today's.
        seed_statistics_across_reform(rng, province, set(story.household_communes), today=local_today(now), now=now)
        # Last month's activity reports, from the communes straight to the province.
        province_staff = db.session.execute(sa.select(User).where(User.username == "canbo.tinh")).scalar_one()
        # The leaders with a login in README first: Minh Xuân's report is approved, Bạch Xa's returned.
        named = [code for code, _username, _name in story.leaders]
        codes = named + [code for code in story.household_communes if code not in named]
        seed_activity_reports([leader_of[code] for code in codes], province_staff, now=now)
    else:
        seed_statistics(rng, province, set(story.household_communes), today=local_today(now), now=now)
    districts = db.session.execute(
        sa.select(sa.func.count()).where(AdminUnit.path.startswith(province.path), AdminUnit.level == Level.DISTRICT)
    ).scalar_one()
    return DemoSummary(
        dataset=dataset,
        districts=districts,
        communes=len(communes),
        villages=len(village_rows),
        households=households,
        users=users,
    )


def _seed_field_work(
    rng: random.Random, leader: User, members: list[User], villages: list[AdminUnit], *, now: datetime
) -> None:
    """A campaign in Tân Hà, two weeks of visits, and today's walk list for each demo member."""
    today = local_today(now)
    name = f"Gõ cửa từng nhà – Quý {QUARTERS[(today.month - 1) // 3]}/{today.year}"
    campaign = save_campaign(
        leader,
        villages[0].parent_unit,
        CampaignInput(name, today - timedelta(days=20), today + timedelta(days=40),
                      [v.id for v in villages], goal_visited_pct=100, goal_activated_pct=80),
        now=now,
    )  # fmt: skip
    for member, village in zip(members, villages, strict=False):
        homes = list(
            db.session.scalars(sa.select(Household).where(Household.village_id == village.id).order_by(Household.id))
        )
        visited, todo = homes[: len(homes) // 2], homes[len(homes) // 2 :]
        for household in visited:
            day = today - timedelta(days=rng.randint(1, 14))
            outcome = rng.choices(
                ["helped", "nobody_home", "refused", "moved_away", "follow_up"], weights=[60, 15, 5, 3, 17]
            )[0]
            helped = outcome == "helped"
            people = rng.randint(1, 3) if helped else 0
            old = rng.randint(0, people)
            payload = {
                "client_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "household_id": household.id,
                "device_time": f"{day.isoformat()}T{rng.randint(8, 17):02d}:{rng.randint(0, 59):02d}:00+07:00",
                "outcome": outcome,
                "people_helped": people,
                "helped_under_30": people - old - (people - old) // 2,
                "helped_30_to_59": (people - old) // 2,
                "helped_60_plus": old,
                "vneid_installed": helped,
                "vneid_level1": helped and rng.random() < 0.8,
                "referred_level2": helped and rng.random() < 0.5,
                "portal_login": helped and rng.random() < 0.4,
                "guide_given": rng.choice(["", "printed", "sms"]) if helped else "",
                "obstacles": rng.sample(
                    ["no_smartphone", "phone_not_own_name", "elderly", "no_internet", "no_chip_id", "language"],
                    rng.choice([0, 0, 1, 1, 2]),
                ),
            }
            if helped and rng.random() < 0.25:
                payload |= {"procedure_submitted": True, "procedure": rng.choice(PROCEDURES)}
            if outcome == "follow_up":
                payload["follow_up_on"] = (today + timedelta(days=rng.randint(-3, 7))).isoformat()
            result = record_visit(member, payload, now=now)
            assert result.status == "created", result.errors
        assign_households(leader, member.id, [h.id for h in todo[:15]], due_on=today, now=now, campaign_id=campaign.id)
        assign_households(leader, member.id, [h.id for h in todo[15:25]], due_on=today + timedelta(days=1), now=now,
                          campaign_id=campaign.id)  # fmt: skip
    db.session.flush()


def _seed_sms(rng: random.Random, leader: User, member: User, villages: list[AdminUnit], *, now: datetime) -> None:
    """The four guides, SMS to Tân Hà households in every state, an opted-out number and replies."""
    guides = install_guides(now=now)
    homes = [
        h for h in db.session.scalars(
            sa.select(Household).where(Household.village_id.in_([v.id for v in villages[:2]])).order_by(Household.id)
        ) if h.may_receive_sms
    ][:14]  # fmt: skip
    earlier = now - timedelta(days=2)
    plan = sms.queue_guide_sms(leader, [h.id for h in homes], guides[0].id, sms.DEFAULT_TEMPLATE, now=earlier)
    states = [
        (Status.DELIVERED, None, ""), (Status.DELIVERED, None, ""), (Status.DELIVERED, None, ""),
        (Status.SENT, None, ""), (Status.SENT, None, ""), (Status.UNDELIVERED, 30003, ""),
        (Status.FAILED, 21211, "The 'To' number is not a valid phone number."),
        (Status.FAILED, 21610, "Attempt to send to unsubscribed recipient"),
        (Status.NEEDS_CHECK, None, "interrupted"), (Status.CANCELLED, None, "opted_out"),
    ]  # fmt: skip
    for message, (status, code, note) in zip(plan.messages, states, strict=False):
        message.status, message.error_code, message.error_message, message.attempts = status, code, note, 1
        if status in (Status.SENT, Status.DELIVERED, Status.UNDELIVERED):
            message.provider_sid, message.sent_at = f"SMdemo{message.id:026d}", earlier
            message.opens = rng.randint(1, 3) if status == Status.DELIVERED else 0
            message.opened_at = earlier + timedelta(hours=2) if message.opens else None
    for message, (status, code, _note) in zip(plan.messages, states, strict=False):
        if code == 21610 or status == Status.CANCELLED:
            source = "carrier" if code else "reply"
            sms.opt_out(message.to_phone, source=source, keyword=str(code or "huy"), now=earlier)
    # A few still waiting (they go out when the scheduler runs), one guide of each other kind.
    for guide, household in zip(guides[1:], homes[10:], strict=False):
        sms.queue_guide_sms(member, [household.id], guide.id, sms.DEFAULT_TEMPLATE, now=now, plain=guide.code == "dvc")
    opted = next((m for m in plan.messages if m.status == Status.CANCELLED), None)
    replies = [("Cảm ơn cán bộ, tôi đã cài được VNeID rồi.", plan.messages[0].to_phone)]
    if opted is not None:
        replies.append(("Huỷ", opted.to_phone))
    replies.append(("Cho hỏi lệ phí làm lý lịch tư pháp bao nhiêu?", plan.messages[1].to_phone))
    for n, (body, phone) in enumerate(replies):
        reply = {"From": phone, "Body": body, "MessageSid": f"SMdemoin{n:024d}"}
        sms.receive_reply(reply, now=earlier + timedelta(hours=n + 1))
    for guide in guides:
        guide.opens = sum(m.opens for m in plan.messages if m.guide_id == guide.id) + rng.randint(3, 20)
    sms.daily_summaries(day=local_today(now - timedelta(days=1)), now=now)
    db.session.flush()


def _seed_help_requests(leader: User, member: User, villages: list[AdminUnit], *, now: datetime) -> None:
    """Residents asking for help in Tân Hà: two from the form (one new, one already assigned to the
    member for today), one by replying GIUP to a guide SMS, and walk-in help at the one-stop desk."""
    earlier = now - timedelta(days=1)
    helps.ask(
        helps.AskInput("Hà Thị Lan", "0978 123 456", villages[0].id, "vneid1", "afternoon", "Tôi không có điện thoại "
                       "thông minh, nhờ con gái giúp.", consent=True, token="demo-help-1", source="qr"),
        now=earlier,
    )  # fmt: skip
    assigned = helps.ask(
        helps.AskInput("Ma Văn Tòng", "0965 222 333", villages[0].id, "fee", "morning", consent=True,
                       token="demo-help-2"),
        now=earlier,
    )  # fmt: skip
    helps.household_from_request(leader, assigned.id, now=earlier)
    helps.assign_request(leader, assigned.id, member.id, due_on=local_today(now), now=earlier)
    phone = db.session.scalar(
        sa.select(Household.phone)
        .where(Household.village_id == villages[1].id, Household.phone.is_not(None))
        .order_by(Household.id)
        .limit(1)
    )
    if phone:
        sms.receive_reply({"From": phone, "Body": "Giúp", "MessageSid": "SMdemohelp0000000000000001"}, now=earlier)
    helps.record_desk_help(
        member,
        helps.DeskInput("demo-desk-1", people=2, done=["vneid_installed", "vneid_level1"], obstacles=["elderly"]),
        now=earlier,
    )
    db.session.flush()


PROCEDURES = ["Đăng ký khai sinh", "Cấp phiếu lý lịch tư pháp", "Đăng ký thường trú", "Cấp đổi giấy phép lái xe"]
