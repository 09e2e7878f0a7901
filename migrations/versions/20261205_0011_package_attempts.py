"""package attempts (issue 25): learners' SCORM attempts and CMI data

Revision ID: 20261205_0011
Revises: 20261205_0010
Create Date: 2026-12-05 13:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261205_0011'
down_revision = '20261205_0010'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
