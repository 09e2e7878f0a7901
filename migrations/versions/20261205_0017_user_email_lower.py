"""user email lower index (issue 22): sign-in finds a person by lower(email)

Without an index on the expression, every sign-in (lms.auth.services.find_user_by_email) and every CSV
import's lookup read the whole user table: 35 ms of CPU per sign-in at 100,000 people, as much as the
argon2id hash itself. SQLite (3.9+) and PostgreSQL both use an index on the same expression.

Revision ID: 20261205_0017
Revises: 20261205_0016
Create Date: 2026-12-05 19:00:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "20261205_0017"
down_revision = "20261205_0016"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_user_email_lower", "user", [sa.text("lower(email)")], unique=False)


def downgrade():
    op.drop_index("ix_user_email_lower", table_name="user")
