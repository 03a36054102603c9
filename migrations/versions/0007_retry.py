"""nobody home is tried again; a correction keeps the visit's time

Revision ID: 0007_retry
Revises: 0006_guide_owner
Create Date: 2026-11-28 09:00:00

- campaign.nobody_home_retry_days: when nobody is home, the household stays with the member and comes
  back the same day (0), the next day (1) or in N days.
- assignment.tried_at: the last time the member found nobody home.
- visit_record.corrected_at: when a correction was made; its device_time is now the corrected visit's.
  Corrections stored before this revision took the correction's time: they get the visit's back.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0007_retry"
down_revision = "0006_guide_owner"
branch_labels = None
depends_on = None


def upgrade():
    # Added in place with the check on the column: on SQLite, rebuilding campaign would fire the
    # ON DELETE actions of campaign_village and assignment.
    op.add_column(
        "campaign",
        sa.Column(
            "nobody_home_retry_days",
            sa.Integer(),
            sa.CheckConstraint(
                "nobody_home_retry_days between 0 and 30", name=op.f("ck_campaign_nobody_home_retry_days")
            ),
            server_default="0",
            nullable=False,
        ),
    )
    op.add_column("assignment", sa.Column("tried_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("visit_record", sa.Column("corrected_at", sa.DateTime(timezone=True), nullable=True))

    # Corrections in the order they were made, so a correction of a correction finds its visit's time
    # already restored on the record it corrects.
    visit = sa.table(
        "visit_record",
        sa.column("id", sa.Integer),
        sa.column("device_time", sa.DateTime(timezone=True)),
        sa.column("corrected_at", sa.DateTime(timezone=True)),
        sa.column("supersedes_id", sa.Integer),
    )
    connection = op.get_bind()
    corrections = connection.execute(
        sa.select(visit.c.id, visit.c.supersedes_id).where(visit.c.supersedes_id.is_not(None)).order_by(visit.c.id)
    ).all()
    for correction_id, corrected_id in corrections:
        visit_time = sa.select(visit.c.device_time).where(visit.c.id == corrected_id).scalar_subquery()
        connection.execute(
            sa.update(visit)
            .where(visit.c.id == correction_id)
            .values(corrected_at=visit.c.device_time, device_time=visit_time)
        )


def downgrade():
    connection = op.get_bind()
    visit = sa.table(
        "visit_record",
        sa.column("device_time", sa.DateTime(timezone=True)),
        sa.column("corrected_at", sa.DateTime(timezone=True)),
    )
    connection.execute(
        sa.update(visit).where(visit.c.corrected_at.is_not(None)).values(device_time=visit.c.corrected_at)
    )
    # In place, not by rebuilding the tables (see upgrade); the column's check goes with it.
    op.drop_column("visit_record", "corrected_at")
    op.drop_column("assignment", "tried_at")
    op.drop_column("campaign", "nobody_home_retry_days")
