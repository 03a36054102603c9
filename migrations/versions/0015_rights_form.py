"""a resident asks about their personal data from a guide page or a leaflet (the public form)

Revision ID: 0015_rights_form
Revises: 0014_perf
Create Date: 2026-11-29 16:00:00

- rights_case.phone: the number the resident gave on the form (E.164), to call back and confirm it is them.
- rights_case.consent_text: the words they agreed to, word for word.
- rights_case.form_token: the form's token, unique when not empty (a form sent twice at once is stored once).
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_rights_form"
down_revision = "0014_perf"
branch_labels = None
depends_on = None

WHERE = sa.text("form_token <> ''")


def upgrade():
    with op.batch_alter_table("rights_case", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("consent_text", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(sa.Column("form_token", sa.String(length=40), server_default="", nullable=False))
    with op.batch_alter_table("rights_case", schema=None) as batch_op:
        batch_op.alter_column("consent_text", server_default=None)
        batch_op.alter_column("form_token", server_default=None)
        batch_op.create_index(batch_op.f("ix_rights_case_phone"), ["phone"], unique=False)
        batch_op.create_index(
            "uq_rights_case_form_token", ["form_token"], unique=True, sqlite_where=WHERE, postgresql_where=WHERE
        )


def downgrade():
    with op.batch_alter_table("rights_case", schema=None) as batch_op:
        batch_op.drop_index("uq_rights_case_form_token", sqlite_where=WHERE, postgresql_where=WHERE)
        batch_op.drop_index(batch_op.f("ix_rights_case_phone"))
        batch_op.drop_column("form_token")
        batch_op.drop_column("consent_text")
        batch_op.drop_column("phone")
