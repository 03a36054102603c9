"""the scheduler's heartbeat and each job's last run

Revision ID: 0005_ops
Revises: 0004_reports
Create Date: 2026-11-29 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005_ops'
down_revision = '0004_reports'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('scheduler_beat',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('holder', sa.String(length=255), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('beat_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ok', sa.Boolean(), nullable=True),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_scheduler_beat'))
    )


def downgrade():
    op.drop_table('scheduler_beat')
