"""The models and the migrations describe the same schema (what `flask db check` asks), on the database
the suite runs on: a model changed without its migration fails here, not in production."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from outreach.extensions import db


def test_models_and_migrations_agree(app):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "render_as_batch": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == []
