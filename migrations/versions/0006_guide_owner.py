"""guides belong to an area; assignments end when they fall out of the member's area

Revision ID: 0006_guide_owner
Revises: 0005_ops
Create Date: 2026-11-28 09:00:00

A guide belongs to the unit that made it (NULL: the country, the shipped guides); the first
opening of its print page freezes its short link, as an SMS with it does; a replaced guide's
link leads to the guide that replaces it. An assignment may now end "out_of_area".
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006_guide_owner'
down_revision = '0005_ops'
branch_labels = None
depends_on = None

OLD_REASONS = "released_reason in ('visited', 'reassigned', 'cancelled')"
NEW_REASONS = "released_reason in ('visited', 'reassigned', 'cancelled', 'out_of_area')"


def upgrade():
    with op.batch_alter_table('guide', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner_unit_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('printed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('replaced_by_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_guide_owner_unit_id'), ['owner_unit_id'], unique=False)
        batch_op.create_foreign_key(
            batch_op.f('fk_guide_owner_unit_id_admin_unit'), 'admin_unit', ['owner_unit_id'], ['id']
        )
        batch_op.create_foreign_key(
            batch_op.f('fk_guide_replaced_by_id_guide'), 'guide', ['replaced_by_id'], ['id'], ondelete='SET NULL'
        )
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_assignment_released_reason'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_assignment_released_reason'), NEW_REASONS)


def downgrade():
    op.execute("UPDATE assignment SET released_reason = 'cancelled' WHERE released_reason = 'out_of_area'")
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_assignment_released_reason'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_assignment_released_reason'), OLD_REASONS)
    with op.batch_alter_table('guide', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_guide_replaced_by_id_guide'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_guide_owner_unit_id_admin_unit'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_guide_owner_unit_id'))
        batch_op.drop_column('replaced_by_id')
        batch_op.drop_column('printed_at')
        batch_op.drop_column('owner_unit_id')
