"""enrolment_import: a large CSV import runs as a background job with a progress page

A 4,000-row import held SQLite's write lock for 46 s and failed every trainee's write meanwhile (issue
18). The file is now checked without a lock and written in one short transaction; a file of more than
ENROLMENT_IMPORT_JOB_ROWS rows waits here for the job, which records its progress and result here.

Revision ID: 20261205_0006
Revises: 20261205_0005
Create Date: 2026-12-05 08:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261205_0006'
down_revision = '20261205_0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "enrolment_import",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=10), nullable=False),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("justification", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=True),
        sa.Column("data", sa.LargeBinary(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("rows_total", sa.Integer(), nullable=False),
        sa.Column("rows_checked", sa.Integer(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=True),
        sa.Column("problems", sa.JSON(), nullable=True),
        sa.Column("problem_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["user.id"], name=op.f("fk_enrolment_import_actor_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["course_run.id"], name=op.f("fk_enrolment_import_run_id_course_run"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrolment_import")),
    )
    with op.batch_alter_table("enrolment_import", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_enrolment_import_actor_id"), ["actor_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_enrolment_import_run_id"), ["run_id"], unique=False)


def downgrade():
    with op.batch_alter_table("enrolment_import", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_enrolment_import_run_id"))
        batch_op.drop_index(batch_op.f("ix_enrolment_import_actor_id"))

    op.drop_table("enrolment_import")
