"""narrow indexes for the coverage of a province

Revision ID: 0014_perf
Revises: 0013_uploads
Create Date: 2026-11-29 13:00:00

- household: ix_household_village_live (village_id, id) WHERE erased_at IS NULL, the live households of
  a village without reading the table.
- visit_record: ix_visit_record_household_time (household_id, device_time) now carries id, outcome,
  vneid_level1 and people_helped (INCLUDE, PostgreSQL only), so a province's coverage and impact report
  read the index and not the table.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0014_perf"
down_revision = "0013_uploads"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("household", schema=None) as batch_op:
        batch_op.create_index(
            "ix_household_village_live",
            ["village_id", "id"],
            unique=False,
            postgresql_where=sa.text("erased_at IS NULL"),
            sqlite_where=sa.text("erased_at IS NULL"),
        )
    with op.batch_alter_table("visit_record", schema=None) as batch_op:
        batch_op.drop_index("ix_visit_record_household_time")
        batch_op.create_index(
            "ix_visit_record_household_time",
            ["household_id", "device_time"],
            unique=False,
            postgresql_include=["id", "outcome", "vneid_level1", "people_helped"],
        )


def downgrade():
    with op.batch_alter_table("visit_record", schema=None) as batch_op:
        batch_op.drop_index("ix_visit_record_household_time")
        batch_op.create_index("ix_visit_record_household_time", ["household_id", "device_time"], unique=False)
    with op.batch_alter_table("household", schema=None) as batch_op:
        batch_op.drop_index("ix_household_village_live")
