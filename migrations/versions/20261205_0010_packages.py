"""packages (issue 25): SCORM packages, versions and their items

Revision ID: 20261205_0010
Revises: 20261205_0009
Create Date: 2026-12-05 13:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261205_0010'
down_revision = '20261205_0009'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
