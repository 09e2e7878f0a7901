"""indicator_fact: one row per place, ready to group, for the admin indicator report

The report summed facts built from five tables on every view (about 3 s on the L data set). The facts
are now stored and kept true by lms.reports.facts in the writer's own transaction. The table is
filled here from the live rows, with SQL frozen at this revision (migrations never import the app);
`flask lms reports check-facts` compares it with the live rows at any time.

Revision ID: 20261203_0003
Revises: 20261202_0002
Create Date: 2026-12-03 00:11:33.818376

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261203_0003'
down_revision = '20261202_0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('indicator_fact',
    sa.Column('user_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('enrolment_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('modality', sa.String(length=20), nullable=False),
    sa.Column('enrolled_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('completed_month', sa.String(length=6), nullable=True),
    sa.Column('hours', sa.Integer(), nullable=False),
    sa.Column('certificate', sa.SmallInteger(), nullable=False),
    sa.Column('paired', sa.SmallInteger(), nullable=False),
    sa.Column('pre_percent', sa.Float(), nullable=True),
    sa.Column('post_percent', sa.Float(), nullable=True),
    sa.Column('country_code', sa.String(length=2), nullable=True),
    sa.Column('authority_id', sa.Integer(), nullable=True),
    sa.Column('sex', sa.String(length=12), nullable=True),
    sa.Column('age_band', sa.String(length=16), nullable=True),
    sa.PrimaryKeyConstraint('user_id', 'enrolment_id', name=op.f('pk_indicator_fact')),
    sqlite_with_rowid=False
    )
    with op.batch_alter_table('indicator_fact', schema=None) as batch_op:
        batch_op.create_index('ix_indicator_fact_authority', ['authority_id', 'user_id', 'completed_month', 'certificate', 'hours', 'paired', 'pre_percent', 'post_percent'], unique=False)
        batch_op.create_index('ix_indicator_fact_course', ['course_id'], unique=False)
        batch_op.create_index('ix_indicator_fact_country', ['country_code'], unique=False)
        batch_op.create_index('ix_indicator_fact_enrolled', ['enrolled_at'], unique=False)
        batch_op.create_index('ix_indicator_fact_enrolment', ['enrolment_id'], unique=True)
        batch_op.create_index('ix_indicator_fact_run', ['run_id'], unique=False)

    op.execute(fill_statement(op.get_bind().dialect.name))


def fill_statement(dialect_name: str) -> str:
    """The first fill (tests/test_reports_facts.py checks it against lms.reports.facts.fact_rows())."""
    # "YYYYMM" as lms.reports.facts.month_key() renders it on each database.
    if dialect_name == "sqlite":
        month = "CAST(CAST(STRFTIME('%Y', {0}) AS INTEGER) * 100 + CAST(STRFTIME('%m', {0}) AS INTEGER) AS VARCHAR)"
    else:
        month = "CAST(CAST(EXTRACT(YEAR FROM {0}) * 100 + EXTRACT(MONTH FROM {0}) AS INTEGER) AS VARCHAR)"
    return FILL.replace("{month}", month.format("COALESCE(e.completed_at, e.enrolled_at)"))


# The facts of lms.reports.facts.fact_rows() as of this revision: places enrolled or completed; hours,
# completion date and certificate as that module defines them; best finished pre- and post-test.
FILL = """
INSERT INTO indicator_fact (user_id, enrolment_id, run_id, course_id, modality, enrolled_at, completed_month,
    hours, certificate, paired, pre_percent, post_percent, country_code, authority_id, sex, age_band)
SELECT e.user_id, e.id, e.run_id, r.course_id, r.modality, e.enrolled_at,
    CASE WHEN e.status = 'completed' THEN {month} END,
    CASE WHEN e.status = 'completed' THEN COALESCE(c.notional_hours, 0) ELSE 0 END,
    CASE WHEN EXISTS (SELECT 1 FROM certificate ce WHERE ce.user_id = e.user_id AND ce.run_id = e.run_id
                      AND ce.status = 'active') THEN 1 ELSE 0 END,
    CASE WHEN t.pre IS NOT NULL AND t.post IS NOT NULL THEN 1 ELSE 0 END,
    CASE WHEN t.pre IS NOT NULL AND t.post IS NOT NULL THEN t.pre END,
    CASE WHEN t.pre IS NOT NULL AND t.post IS NOT NULL THEN t.post END,
    u.country_code, e.authority_id, u.sex, u.birth_year_band
FROM enrolment e
JOIN "user" u ON u.id = e.user_id
JOIN course_run r ON r.id = e.run_id
JOIN course c ON c.id = r.course_id
LEFT OUTER JOIN (
    SELECT a.enrolment_id AS enrolment_id,
        MAX(CASE WHEN q.role = 'pre_test' THEN a.percent END) AS pre,
        MAX(CASE WHEN q.role = 'post_test' THEN a.percent END) AS post
    FROM quiz_attempt a JOIN quiz q ON q.id = a.quiz_id
    WHERE q.role IN ('pre_test', 'post_test') AND a.status IN ('submitted', 'expired')
    GROUP BY a.enrolment_id
) t ON t.enrolment_id = e.id
WHERE e.status IN ('enrolled', 'completed')
"""


def downgrade():
    with op.batch_alter_table('indicator_fact', schema=None) as batch_op:
        batch_op.drop_index('ix_indicator_fact_run')
        batch_op.drop_index('ix_indicator_fact_enrolment')
        batch_op.drop_index('ix_indicator_fact_enrolled')
        batch_op.drop_index('ix_indicator_fact_country')
        batch_op.drop_index('ix_indicator_fact_course')
        batch_op.drop_index('ix_indicator_fact_authority')

    op.drop_table('indicator_fact')
