"""drop verify_rate_window: the verify page counts through lms.ops.ratelimit

The public verify page had its own per-client window table; it now uses the shared limiter
(Redis, or the rate_limit_counter table). The counts are short-lived (one window of minutes), so
nothing is carried over: the first lookups after the upgrade start new windows.

Revision ID: 20261202_0002
Revises: 0001_initial
Create Date: 2026-12-02 10:00:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "20261202_0002"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("verify_rate_window", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_verify_rate_window_window_start"))

    op.drop_table("verify_rate_window")


def downgrade():
    # The table as 0001_initial created it (empty: the counts of the shared limiter are not copied).
    op.create_table(
        "verify_rate_window",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_hash", sa.String(length=64), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verify_rate_window")),
        sa.UniqueConstraint(
            "client_hash", "window_start", name=op.f("uq_verify_rate_window_client_hash_window_start")
        ),
    )
    with op.batch_alter_table("verify_rate_window", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_verify_rate_window_window_start"), ["window_start"], unique=False
        )
