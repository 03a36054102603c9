"""personal data under Law 91/2025: sensitive facts apart, restriction, rights cases, breaches

Revision ID: 0012_privacy
Revises: 0011_requests
Create Date: 2026-11-29 12:00:00

- consent may be given for "sensitive_health" (a disability recorded with the resident's explicit consent).
- visit_record.sensitive_consent (that consent, at the visit) and notes_cleared_at (the retention job).
- anonymous_fact: sensitive facts counted per village and day, linked to nobody.
- household.restricted_at: restriction or objection in effect (no SMS, no new visits, hidden from lists).
- rights_case (requests with deadlines) and privacy_breach (incidents and their notification deadline).
- an index on audit_event (target_type, target_id, at): who read a household.

Chained after 0010_monthly; on merge it follows whatever the last revision is.
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_privacy"
down_revision = "0011_requests"
branch_labels = None
depends_on = None

OLD_PURPOSES = "purpose in ('store_phone', 'receive_sms')"
NEW_PURPOSES = "purpose in ('store_phone', 'receive_sms', 'sensitive_health')"


def _recreate() -> str:
    # SQLite changes a CHECK constraint only by copying the table; PostgreSQL alters it in place.
    return "always" if op.get_bind().dialect.name == "sqlite" else "auto"


def upgrade():
    with op.batch_alter_table("consent", schema=None, recreate=_recreate()) as batch_op:
        batch_op.drop_constraint(op.f("ck_consent_purpose"), type_="check")
        batch_op.create_check_constraint("purpose", NEW_PURPOSES)
    with op.batch_alter_table("household", schema=None) as batch_op:
        batch_op.add_column(sa.Column("restricted_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("visit_record", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sensitive_consent", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("notes_cleared_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index("ix_audit_event_target", ["target_type", "target_id", "at"], unique=False)
    op.create_table(
        "anonymous_fact",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("village_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.CheckConstraint("count >= 0", name=op.f("ck_anonymous_fact_count_not_negative")),
        sa.ForeignKeyConstraint(
            ["village_id"], ["admin_unit.id"], name=op.f("fk_anonymous_fact_village_id_admin_unit"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_anonymous_fact")),
        sa.UniqueConstraint("village_id", "day", "code", name=op.f("uq_anonymous_fact_village_id_day_code")),
    )
    with op.batch_alter_table("anonymous_fact", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_anonymous_fact_village_id"), ["village_id"], unique=False)
    op.create_table(
        "rights_case",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("requester", sa.String(length=120), nullable=False),
        sa.Column("channel", sa.String(length=12), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("action_taken", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind in ('know', 'access', 'correct', 'delete', 'restrict', 'object')", name=op.f("ck_rights_case_kind")
        ),
        sa.CheckConstraint("status in ('open', 'done', 'refused')", name=op.f("ck_rights_case_status")),
        sa.ForeignKeyConstraint(
            ["closed_by_id"], ["user.id"], name=op.f("fk_rights_case_closed_by_id_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["user.id"], name=op.f("fk_rights_case_created_by_id_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["household_id"], ["household.id"], name=op.f("fk_rights_case_household_id_household"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["admin_unit.id"], name=op.f("fk_rights_case_unit_id_admin_unit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rights_case")),
    )
    with op.batch_alter_table("rights_case", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rights_case_household_id"), ["household_id"], unique=False)
        batch_op.create_index("ix_rights_case_open_due", ["status", "due_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_rights_case_unit_id"), ["unit_id"], unique=False)
    op.create_table(
        "privacy_breach",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("what", sa.Text(), nullable=False),
        sa.Column("data_kinds", sa.Text(), nullable=False),
        sa.Column("found_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("people", sa.Integer(), nullable=False),
        sa.Column("actions", sa.Text(), nullable=False),
        sa.Column("notify_due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("notified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["user.id"], name=op.f("fk_privacy_breach_created_by_id_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["admin_unit.id"], name=op.f("fk_privacy_breach_unit_id_admin_unit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_breach")),
    )
    with op.batch_alter_table("privacy_breach", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_privacy_breach_unit_id"), ["unit_id"], unique=False)


def downgrade():
    op.drop_table("privacy_breach")
    op.drop_table("rights_case")
    op.drop_table("anonymous_fact")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_event_target")
    with op.batch_alter_table("visit_record", schema=None) as batch_op:
        batch_op.drop_column("notes_cleared_at")
        batch_op.drop_column("sensitive_consent")
    with op.batch_alter_table("household", schema=None) as batch_op:
        batch_op.drop_column("restricted_at")
    op.execute("DELETE FROM consent WHERE purpose = 'sensitive_health'")
    with op.batch_alter_table("consent", schema=None, recreate=_recreate()) as batch_op:
        batch_op.drop_constraint(op.f("ck_consent_purpose"), type_="check")
        batch_op.create_check_constraint("purpose", OLD_PURPOSES)
