"""api tokens (issue 24): personal and service tokens with scopes

Revision ID: 20261205_0008
Revises: 20261205_0007
Create Date: 2026-12-05 13:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261205_0008'
down_revision = '20261205_0007'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
