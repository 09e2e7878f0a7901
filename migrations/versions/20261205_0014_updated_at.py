"""updated_at on user and course_run: `updated_since` for the people and the runs of /api/v1 (issue 24)

An authority's HR system synchronises its officers (and a partner the catalogue's runs) by asking what
changed since the largest updated_at it has seen. Existing rows get the column through a constant server
default (SQLite adds such a column without copying the table), then take their created_at (or the current
time, should one have none); the server default is dropped afterwards, the models set the value.

Revision ID: 20261205_0014
Revises: 20261205_0013
Create Date: 2026-12-05 14:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261205_0014'
down_revision = '20261205_0013'
branch_labels = None
depends_on = None

TABLES = ('user', 'course_run')


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('updated_at', sa.DateTime(timezone=True),
                                          server_default='2000-01-01 00:00:00', nullable=False))
        op.execute(f'UPDATE "{table}" SET updated_at = COALESCE(created_at, CURRENT_TIMESTAMP)')
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('updated_at', existing_type=sa.DateTime(timezone=True),
                                  existing_nullable=False, server_default=None)
            batch_op.create_index(batch_op.f(f'ix_{table}_updated_at'), ['updated_at'], unique=False)


def downgrade():
    for table in reversed(TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f'ix_{table}_updated_at'))
            batch_op.drop_column('updated_at')
