"""integrations (issue 24): webhook subscriptions and deliveries, the xAPI statement outbox

Revision ID: 20261205_0009
Revises: 20261205_0008
Create Date: 2026-12-05 13:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261205_0009'
down_revision = '20261205_0008'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
