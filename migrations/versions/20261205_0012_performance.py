"""performance (issue 22): indexes and columns the hot paths read

Revision ID: 20261205_0012
Revises: 20261205_0011
Create Date: 2026-12-05 13:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261205_0012'
down_revision = '20261205_0011'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
