"""Users, login and API tokens."""

import hashlib
import re
import secrets
from datetime import datetime, timedelta
from typing import cast

import sqlalchemy as sa
from flask_babel import gettext as _
from werkzeug.security import check_password_hash

from outreach.audit.models import AuditEvent
from outreach.audit.services import record_event
from outreach.auth.models import ApiToken, LoginSession, Role, User
from outreach.auth.scope import get_unit, require_role, unit_in_scope
from outreach.auth.signals import scope_changed
from outreach.errors import NotFound, ValidationError
from outreach.extensions import db, rowcount
from outreach.geo.models import AdminUnit, Level
from outreach.labels import LEVEL_LABELS, ROLE_LABELS, whole_unit_label
from outreach.text import fold

TOKEN_PREFIX = "otr_"
MIN_PASSWORD = 8

# The unit level each role is scoped to: a leader runs a commune, a member works in a village
# or commune, staff look at a district or province (or a commune, for a commune official).
ROLE_LEVELS = {
    Role.STAFF: (Level.PROVINCE, Level.DISTRICT, Level.COMMUNE),
    Role.LEADER: (Level.COMMUNE,),
    Role.MEMBER: (Level.COMMUNE, Level.VILLAGE),
}


def _nobody_hash(method: str) -> str:
    """A stored-password hash in the configured method that no password matches: checking it costs
    what checking a real user's password costs, so a name that does not exist answers no faster."""
    return f"{method}$no-user${'0' * 64}"


def authenticate(username: str, password: str, *, ip: str, method: str, now: datetime) -> User | None:
    """The active user with this name and password, else ``None``; both outcomes are audited.

    The password is checked every time, against a hash of ``method`` when no such user exists (or
    the account is locked), so the time taken tells nothing about which names exist."""
    user = db.session.scalar(sa.select(User).where(sa.func.lower(User.username) == username.strip().lower()))
    matches = check_password_hash(user.password_hash if user else _nobody_hash(method), password)
    if user is None or not matches or not user.active:
        record_event(user, "login.failed", actor_name=username.strip()[:80], ip=ip, now=now)
        return None
    user.last_login_at = now
    record_event(user, "login", ip=ip, now=now)
    return user


# --- logins (sessions and remember cookies) ---------------------------------------------------


def start_login(user: User, *, now: datetime, lifetime: timedelta) -> str:
    """A new login for ``user`` on one device; returns its id ("<user id>:<key>"), which Flask-Login
    puts in the session and the remember cookie: a new one at every login, never stored in clear.
    Logins older than ``lifetime`` (the longest a cookie could carry them) are forgotten."""
    db.session.execute(
        sa.delete(LoginSession).where(LoginSession.user_id == user.id, LoginSession.created_at < now - lifetime)
    )
    key = secrets.token_urlsafe(32)
    db.session.add(LoginSession(user_id=user.id, key_hash=_hash_token(key), created_at=now))
    db.session.flush()
    user.session_id = f"{user.id}:{key}"
    return user.session_id


def _split_login(session_id: str) -> tuple[int, str] | None:
    user_id, sep, key = session_id.partition(":")
    if not sep or not user_id.isdigit() or not key:
        return None  # a cookie from before logins were kept, or not ours
    return int(user_id), key


def user_for_login(session_id: str, *, now: datetime, lifetime: timedelta) -> User | None:
    """The active user of a login that has not ended, else ``None``."""
    parts = _split_login(session_id)
    if parts is None:
        return None
    user = db.session.scalar(
        sa.select(User)
        .join(LoginSession, LoginSession.user_id == User.id)
        .where(
            User.id == parts[0],
            LoginSession.key_hash == _hash_token(parts[1]),
            LoginSession.created_at >= now - lifetime,
        )
    )
    if user is None or not user.active:
        return None
    user.session_id = session_id
    return user


def end_login(session_id: str | None) -> None:
    """End one login (logout): its session and remember cookie open nothing from now on."""
    parts = _split_login(session_id or "")
    if parts is not None:
        user_id, key = parts
        db.session.execute(
            sa.delete(LoginSession).where(LoginSession.user_id == user_id, LoginSession.key_hash == _hash_token(key))
        )


def end_logins(user: User) -> int:
    """End every login of ``user``, on every device; returns how many there were."""
    ended = db.session.execute(sa.delete(LoginSession).where(LoginSession.user_id == user.id))
    return cast(sa.CursorResult, ended).rowcount


def log_out_everywhere(user: User, *, ip: str, now: datetime) -> int:
    """The user ends all their logins (a lost phone): audited."""
    count = end_logins(user)
    record_event(user, "sessions.end", target=user, detail={"logins": count}, ip=ip, now=now)
    return count


_CODE = re.compile(r"^((2025|legacy):)?[0-9][0-9-]*$")


def _describe(unit: AdminUnit) -> str:
    where = ", ".join(a.name for a in reversed(unit.ancestors()))
    return f"{unit.name}{f' ({where})' if where else ''}: {unit_reference(unit)}"


def unit_reference(unit: AdminUnit) -> str:
    """How to write a unit in a form or a command: its code, with the dataset only when needed."""
    same_code = db.session.execute(
        sa.select(sa.func.count(AdminUnit.id)).where(AdminUnit.code == unit.code)
    ).scalar_one()
    return f"{unit.dataset}:{unit.code}" if same_code > 1 else unit.code


def find_unit(text: str) -> AdminUnit:
    """A unit by its code ("02216", "legacy:02216") or by its name ("Tân Hà", "Phường Tân Hà").

    A name or code that fits several units is refused with the list to choose from."""
    text = text.strip()
    if _CODE.match(text):
        dataset, _sep, code = text.rpartition(":")
        stmt = sa.select(AdminUnit).where(AdminUnit.code == code)
        if dataset:
            stmt = stmt.where(AdminUnit.dataset == dataset)
    else:
        folded = fold(text)
        stmt = sa.select(AdminUnit).where(
            sa.or_(AdminUnit.name_folded.startswith(f"{folded} |"), AdminUnit.name_folded.endswith(f"| {folded}"))
        )
    units = list(db.session.scalars(stmt.order_by(AdminUnit.path).limit(11)))
    if not units:
        raise ValidationError({"unit": [_("No unit with the code or name “%(text)s”.", text=text)]})
    if len(units) > 1:
        options = "; ".join(_describe(u) for u in units[:10])
        raise ValidationError(
            {
                "unit": [
                    _(
                        "“%(text)s” fits several units; write the code of one of them: %(options)s.",
                        text=text,
                        options=options,
                    )
                ]
            }
        )
    return units[0]


def _check_user(role: str, unit: AdminUnit | None, password: str | None) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if role not in set(Role):
        errors["role"] = [_("Choose a role: %(roles)s.", roles=", ".join(str(label) for label in ROLE_LABELS.values()))]
    elif role != Role.ADMIN:
        if unit is None:
            errors["unit"] = [_("Choose the unit this user works in.")]
        elif unit.level not in ROLE_LEVELS[Role(role)]:
            errors["unit"] = [
                _(
                    "%(role)s cannot work at the level of %(unit)s; choose a unit of level: %(levels)s.",
                    role=ROLE_LABELS[role],
                    unit=unit.name,
                    levels=", ".join(
                        str(LEVEL_LABELS[lv])
                        for lv in ROLE_LEVELS[Role(role)]
                        if not (lv == Level.DISTRICT and unit.dataset == "2025")  # none since 1/7/2025
                    ),
                )
            ]
    if password is not None and len(password) < MIN_PASSWORD:
        errors["password"] = [_("The password must have at least %(n)s characters.", n=MIN_PASSWORD)]
    return errors


def create_user(
    actor: User | None,
    username: str,
    *,
    role: str,
    unit: AdminUnit | None,
    password: str,
    full_name: str = "",
    now: datetime,
) -> User:
    """Create a user. ``actor`` None is the command line."""
    username = username.strip()
    errors = _check_user(role, unit, password)
    if not username or len(username) > 80 or any(ch.isspace() for ch in username):
        errors["username"] = [_("A user name is one word of at most 80 characters.")]
    elif db.session.scalar(sa.select(User.id).where(sa.func.lower(User.username) == username.lower())):
        errors["username"] = [_("The user name “%(name)s” is taken.", name=username)]
    if errors:
        raise ValidationError(errors)
    user = User(
        username=username,
        full_name=full_name.strip(),
        role=role,
        scope_unit=None if role == Role.ADMIN else unit,
        created_at=now,
    )
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    record_event(actor, "user.create", target=user, detail={"role": role, "unit": unit.code if unit else None}, now=now)
    return user


def change_user(
    actor: User | None, user_id: int, *, role: str, unit: AdminUnit | None, active: bool, now: datetime
) -> User:
    """Change a user's role, scope or whether they can log in (each change audited)."""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(user_id)
    errors = _check_user(role, unit, None)
    if actor is not None and user.id == actor.id and (not active or role != user.role):
        errors["role"] = [_("You cannot demote or deactivate yourself.")]
    if errors:
        raise ValidationError(errors)
    unit = None if role == Role.ADMIN else unit
    before = {"role": user.role, "unit": user.scope_unit.code if user.scope_unit else None, "active": user.active}
    user.role, user.scope_unit, user.active = role, unit, active
    after = {"role": role, "unit": unit.code if unit else None, "active": active}
    if before != after:
        action = "user.role_change" if before["role"] != role or before["unit"] != after["unit"] else "user.change"
        record_event(actor, action, target=user, detail={"before": before, "after": after}, now=now)
        if not active:
            revoke_tokens(user, now=now)
        if action == "user.role_change" or not active:
            end_logins(user)  # what the user may see changed: every device logs in again
    db.session.flush()
    if before["role"] != role or before["unit"] != after["unit"]:
        scope_changed.send(user, actor=actor, now=now)  # planning releases what they may no longer see
    return user


def set_password(actor: User | None, user: User, password: str, *, now: datetime) -> None:
    """Set a new password; every login of the user ends."""
    if len(password) < MIN_PASSWORD:
        raise ValidationError({"password": [_("The password must have at least %(n)s characters.", n=MIN_PASSWORD)]})
    user.set_password(password)
    record_event(actor, "user.password", target=user, now=now)
    end_logins(user)  # whoever knew the old password is logged out everywhere
    db.session.flush()


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(user: User, *, label: str = "", now: datetime) -> str:
    """Make a new API token for ``user`` and return it; only its hash is kept, so show it once."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    db.session.add(
        ApiToken(user_id=user.id, label=label[:80], token_hash=_hash_token(token), prefix=token[:10], created_at=now)
    )
    record_event(user, "token.create", target=user, detail={"label": label}, now=now)
    db.session.flush()
    return token


def user_for_token(token: str, *, now: datetime) -> User | None:
    """The active user owning a live token."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    row = db.session.scalar(
        sa.select(ApiToken).where(ApiToken.token_hash == _hash_token(token), ApiToken.revoked_at.is_(None))
    )
    if row is None or not row.user.active:
        return None
    # Keep the write cheap: a last-used date per hour is enough to spot dead tokens.
    if row.last_used_at is None or (now - row.last_used_at).total_seconds() > 3600:
        row.last_used_at = now
    return row.user


def revoke_tokens(user: User, *, now: datetime, token_id: int | None = None) -> int:
    """Revoke one of the user's tokens (or all of them); returns how many were live."""
    stmt = sa.update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    if token_id is not None:
        stmt = stmt.where(ApiToken.id == token_id)
    count = rowcount(db.session.execute(stmt.values(revoked_at=now)))
    if count:
        record_event(user, "token.revoke", target=user, detail={"tokens": count}, now=now)
    return count


def list_users(*, query: str = "") -> list[User]:
    stmt = sa.select(User).order_by(User.role, User.username)
    if query:
        stmt = stmt.where(sa.func.lower(User.username).contains(query.lower(), autoescape=True))
    return list(db.session.scalars(stmt))


# --- a commune's team (leaders manage their members) -----------------------------------------


def team_members(actor: User) -> list[User]:
    """Team members working in the actor's area (a leader: their commune)."""
    return list(
        db.session.scalars(
            sa.select(User)
            .join(AdminUnit, User.scope_unit_id == AdminUnit.id)
            .where(User.role == Role.MEMBER, unit_in_scope(actor))
            .order_by(AdminUnit.sort_key, User.full_name, User.username)
        )
    )


def _team_unit(actor: User, unit_id: int | None) -> AdminUnit:
    if unit_id is None:
        whole = whole_unit_label(actor.scope_unit)
        raise ValidationError({"unit": [_("Choose the village (or %(whole)s) the member works in.", whole=whole)]})
    here = actor.scope_unit.name if actor.scope_unit is not None else ""
    try:
        unit = get_unit(actor, unit_id)
    except NotFound as exc:
        raise ValidationError({"unit": [_("Choose a village of %(commune)s.", commune=here)]}) from exc
    if unit.level not in ROLE_LEVELS[Role.MEMBER]:
        raise ValidationError({"unit": [_("Choose a village of %(commune)s.", commune=here)]})
    return unit


def add_team_member(
    actor: User, username: str, *, full_name: str, unit_id: int | None, password: str, now: datetime
) -> User:
    """A leader adds a volunteer to their commune's team (always the member role)."""
    require_role(actor, Role.LEADER)
    unit = _team_unit(actor, unit_id)
    return create_user(actor, username, role=Role.MEMBER, unit=unit, password=password, full_name=full_name, now=now)


def change_team_member(actor: User, user_id: int, *, unit_id: int | None, active: bool, now: datetime) -> User:
    """A leader moves a member to another village of the commune, or locks/unlocks the account."""
    require_role(actor, Role.LEADER)
    member = next((m for m in team_members(actor) if m.id == user_id), None)
    if member is None:
        raise NotFound(user_id)
    unit = _team_unit(actor, unit_id)
    return change_user(actor, member.id, role=Role.MEMBER, unit=unit, active=active, now=now)


def example_commune(actor: User | None) -> AdminUnit | None:
    """A commune to name in a hint ("a name or a code, e.g. …"), so an example names a unit that exists:
    the actor's own commune, else the first in their area (today's structure before the legacy one)."""
    if actor is None:
        return None
    unit = actor.scope_unit
    while unit is not None and unit.level == Level.VILLAGE:
        unit = unit.parent
    if unit is not None and unit.level == Level.COMMUNE:
        return unit
    return db.session.scalar(
        sa.select(AdminUnit)
        .where(AdminUnit.level == Level.COMMUNE, unit_in_scope(actor))
        .order_by(AdminUnit.dataset != "2025", AdminUnit.sort_key, AdminUnit.id)
        .limit(1)
    )


def user_names(events: list[AuditEvent]) -> dict[tuple[str, str], str]:
    """The audit page's names for the users its events point at (``naming_targets``): their usernames."""
    user_ids = {int(e.target_id) for e in events if e.target_type == "User" and e.target_id.isdigit()}
    names = {}
    if user_ids:
        for user_id, username in db.session.execute(sa.select(User.id, User.username).where(User.id.in_(user_ids))):
            names[("User", str(user_id))] = username
    return names
