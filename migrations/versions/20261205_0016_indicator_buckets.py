"""indicator buckets (issue 22): the date-filtered indicator report, and the cells' hot row

indicator_bucket: the indicator cells per month of enrolment, so a date range sums its whole months and
groups only the partial months at its edges (lms.reports.models.IndicatorBucket says how distinct persons
are counted). Filled here from indicator_fact with SQL frozen at this revision (window functions: the
month of each place's previous place of the same person, and of the same person at that authority);
lms.reports.cells.rebuild computes the same rows (tests/test_reports_buckets.py compares them).

indicator_cell and indicator_bucket get a `slot` in their primary key: each write adds its difference to
one of a few rows per cell (lms.reports.cells.SLOTS), summed at read time, so two PostgreSQL writers that
change the total no longer queue on one row. Existing cells become slot 0.

Revision ID: 20261205_0016
Revises: 20261205_0015
Create Date: 2026-12-05 16:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261205_0016'
down_revision = '20261205_0015'
branch_labels = None
depends_on = None

FIGURES = "participants, enrolments, completions, completed_persons, certificates, completed_hours, paired, pre_sum, post_sum"
SUMS = ("SUM(participants), SUM(enrolments), SUM(completions), SUM(completed_persons), SUM(certificates), "
        "SUM(completed_hours), SUM(paired), SUM(pre_sum), SUM(post_sum)")


def upgrade():
    with op.batch_alter_table('indicator_cell', schema=None) as batch_op:
        batch_op.add_column(sa.Column('slot', sa.SmallInteger(), server_default='0', nullable=False))
        batch_op.drop_constraint('pk_indicator_cell', type_='primary')
        batch_op.create_primary_key('pk_indicator_cell', ['dimension', 'key', 'slot'])
    op.create_table('indicator_bucket',
    sa.Column('month', sa.String(length=6), nullable=False),
    sa.Column('dimension', sa.String(length=12), nullable=False),
    sa.Column('key', sa.String(length=20), nullable=False),
    sa.Column('since', sa.String(length=6), nullable=False),
    sa.Column('slot', sa.SmallInteger(), server_default='0', nullable=False),
    sa.Column('participants', sa.Integer(), nullable=False),
    sa.Column('enrolments', sa.Integer(), nullable=False),
    sa.Column('completions', sa.Integer(), nullable=False),
    sa.Column('completed_persons', sa.Integer(), nullable=False),
    sa.Column('certificates', sa.Integer(), nullable=False),
    sa.Column('completed_hours', sa.Integer(), nullable=False),
    sa.Column('paired', sa.Integer(), nullable=False),
    sa.Column('pre_sum', sa.Float(), nullable=False),
    sa.Column('post_sum', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('month', 'dimension', 'key', 'since', 'slot', name=op.f('pk_indicator_bucket')),
    sqlite_with_rowid=False,
    )
    op.execute(fill_statement(op.get_bind().dialect.name))


def fill_statement(dialect: str) -> str:
    """Every bucket from the facts: each place's sums in its month's row (since ""), its person counted in
    the row since the month of the person's previous place (and previous completed place), per person
    and per (person, authority)."""
    if dialect == "postgresql":
        month = "to_char(enrolled_at AT TIME ZONE 'UTC', 'YYYYMM')"
    else:
        month = "strftime('%Y%m', enrolled_at)"

    def before(value: str, partition: str) -> str:
        return (f"COALESCE(MAX({value}) OVER (PARTITION BY {partition} ORDER BY enrolled_at, enrolment_id "
                "ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), '')")

    done = "CASE WHEN completed_month IS NOT NULL THEN em END"
    places = (f"SELECT *, {before('em', 'user_id')} AS p, {before(done, 'user_id')} AS pd, "
              f"{before('em', 'user_id, authority_id')} AS pa, {before(done, 'user_id, authority_id')} AS pad "
              f"FROM (SELECT indicator_fact.*, {month} AS em FROM indicator_fact) AS f")
    parts = []
    scopes = [("'total'", "''", "p", "pd"), ("'country'", "COALESCE(country_code, '')", "p", "pd"),
              ("'sex'", "COALESCE(sex, '')", "p", "pd"), ("'age_band'", "COALESCE(age_band, '')", "p", "pd"),
              ("'authority'", "COALESCE(CAST(authority_id AS VARCHAR(20)), '')", "pa", "pad")]
    for dimension, key, previous, previous_done in scopes:
        head = f"SELECT em, {dimension} AS dimension, {key} AS key"
        parts.append(f"{head}, '' AS since, 0 AS participants, 1 AS enrolments, "
                     "CASE WHEN completed_month IS NOT NULL THEN 1 ELSE 0 END AS completions, 0 AS completed_persons, "
                     "certificate AS certificates, hours AS completed_hours, paired, "
                     "COALESCE(pre_percent, 0) AS pre_sum, COALESCE(post_percent, 0) AS post_sum FROM g")
        parts.append(f"{head}, {previous}, 1, 0, 0, 0, 0, 0, 0, 0, 0 FROM g")
        parts.append(f"{head}, {previous_done}, 0, 0, 0, 1, 0, 0, 0, 0, 0 FROM g WHERE completed_month IS NOT NULL")
    parts.append("SELECT em, 'month', completed_month, '', 0, 1, 1, 0, 0, 0, 0, 0, 0 FROM g "
                 "WHERE completed_month IS NOT NULL")
    union = " UNION ALL ".join(parts)
    return (f"WITH g AS ({places}) INSERT INTO indicator_bucket (month, dimension, key, since, slot, {FIGURES}) "
            f"SELECT em, dimension, key, since, 0, {SUMS} FROM ({union}) AS u GROUP BY em, dimension, key, since")


def downgrade():
    op.drop_table('indicator_bucket')
    named = ", ".join(f"SUM({name}) AS {name}" for name in FIGURES.split(", "))
    op.execute(f"CREATE TABLE indicator_cell_summed AS SELECT dimension, key, {named} "
               "FROM indicator_cell GROUP BY dimension, key")
    op.execute("DELETE FROM indicator_cell")
    op.execute(f"INSERT INTO indicator_cell (dimension, key, slot, {FIGURES}) "
               f"SELECT dimension, key, 0, {FIGURES} FROM indicator_cell_summed")
    op.execute("DROP TABLE indicator_cell_summed")
    with op.batch_alter_table('indicator_cell', schema=None) as batch_op:
        batch_op.drop_constraint('pk_indicator_cell', type_='primary')
        batch_op.create_primary_key('pk_indicator_cell', ['dimension', 'key'])
        batch_op.drop_column('slot')
