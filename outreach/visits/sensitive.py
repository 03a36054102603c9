"""Sensitive facts (a disability: health information): linked to a household only with its consent,
otherwise counted anonymously per village and day. And what a household's visits hold about it, for
its export and its erasure (geo asks through ``outreach.geo.signals``; ``visits/routes.py`` subscribes)."""

import collections
from collections.abc import Mapping
from datetime import date, datetime

import sqlalchemy as sa

from outreach.auth.models import User
from outreach.bulk import any_of
from outreach.clock import local_today
from outreach.extensions import db
from outreach.geo.models import Household, Purpose
from outreach.visits.models import SENSITIVE_OBSTACLES, AnonymousFact, VisitObstacle, VisitRecord


def count_anonymously(village_id: int, day, code: str, n: int = 1) -> None:
    """Add ``n`` to a village's anonymous count of a sensitive fact on a day (linked to nobody)."""
    add_anonymous_counts({(village_id, day, code): n})


def add_anonymous_counts(counts: Mapping[tuple[int, date, str], int]) -> None:
    """Add to villages' anonymous counts of sensitive facts, ``{(village_id, day, code): n}``: one query
    for the counts already there, whatever the number of facts (a synced batch holds hundreds)."""
    if not counts:
        return
    existing = {
        (row.village_id, row.day, row.code): row
        for row in db.session.scalars(
            sa.select(AnonymousFact).where(
                any_of(AnonymousFact.village_id, {village for village, _day, _code in counts}),
                any_of(AnonymousFact.day, {day for _village, day, _code in counts}),
                any_of(AnonymousFact.code, {code for _village, _day, code in counts}),
            )
        )
    }
    for (village_id, day, code), n in counts.items():
        row = existing.get((village_id, day, code))
        if row is None:
            db.session.add(AnonymousFact(village_id=village_id, day=day, code=code, count=n))
        else:
            row.count += n
    db.session.flush()


def unlink_sensitive_facts(condition, *, dry_run: bool = False) -> int:
    """Move the sensitive obstacles of the visits matching ``condition`` (on ``VisitRecord``) to their
    village's anonymous counts, and delete the links to the household. Returns how many facts."""
    rows = db.session.execute(
        sa.select(VisitObstacle.visit_id, VisitObstacle.code, VisitRecord.device_time, Household.village_id)
        .join(VisitRecord, VisitRecord.id == VisitObstacle.visit_id)
        .join(Household, Household.id == VisitRecord.household_id)
        .where(VisitObstacle.code.in_(sorted(SENSITIVE_OBSTACLES)), condition)
    ).all()
    if dry_run or not rows:
        return len(rows)
    counts: collections.Counter[tuple[int, date, str]] = collections.Counter(
        (village_id, local_today(device_time), code) for _visit_id, code, device_time, village_id in rows
    )
    add_anonymous_counts(counts)
    for visit_id, code, _time, _village in rows:
        db.session.execute(
            sa.delete(VisitObstacle)
            .where(VisitObstacle.visit_id == visit_id, VisitObstacle.code == code)
            .execution_options(synchronize_session=False)
        )
    db.session.expire_all()
    return len(rows)


# --- what geo asks (outreach.geo.signals) -----------------------------------------------------


def on_consent_withdrawn(household: Household, *, purpose: Purpose, actor: User | None, now: datetime) -> None:
    """Without the sensitive consent the household's sensitive facts are no longer linked to it: counted only."""
    if purpose == Purpose.SENSITIVE:
        unlink_sensitive_facts(VisitRecord.household_id == household.id)


def export_sensitive_facts(household: Household, *, now: datetime) -> dict:
    """The household's section of its export: the sensitive facts still linked to it, by visit day."""
    return {
        "sensitive_facts": [
            {"visit_on": local_today(when).isoformat(), "fact": code}
            for when, code in db.session.execute(
                sa.select(VisitRecord.device_time, VisitObstacle.code)
                .join(VisitObstacle, VisitObstacle.visit_id == VisitRecord.id)
                .where(VisitRecord.household_id == household.id, VisitObstacle.code.in_(sorted(SENSITIVE_OBSTACLES)))
                .order_by(VisitRecord.device_time)
            )
        ]
    }


def erase_visits_of(household: Household, *, actor: User, now: datetime) -> None:
    """A resident's erasure: their sensitive facts become anonymous counts, and what the team wrote
    about them goes too; the visits stay as counts."""
    unlink_sensitive_facts(VisitRecord.household_id == household.id)
    db.session.execute(
        sa.update(VisitRecord)
        .where(VisitRecord.household_id == household.id)
        .values(notes="", obstacle_other="", lat=None, lon=None, accuracy_m=None, location_consent=False)
        .execution_options(synchronize_session=False)
    )
