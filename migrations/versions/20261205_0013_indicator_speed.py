"""indicator speed (issue 22): what the uncached indicator report reads (L and XL)

Revision ID: 20261205_0013
Revises: 20261205_0012
Create Date: 2026-12-05 13:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261205_0013'
down_revision = '20261205_0012'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
